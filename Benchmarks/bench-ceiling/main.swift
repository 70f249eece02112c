// The framework's ceiling for the benchmark: a bare Hummingbird route returning the same
// Patient bytes the sandbox serves, from memory. Benchmark-only; not part of the product.
import Foundation
import Hummingbird
import Logging
import NIOCore

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[2]), let data = FileManager.default.contents(atPath: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: bench-ceiling FILE PORT\n".utf8))
    exit(2)
}
let bytes = ByteBuffer(bytes: Array(data))
let router = Router()
router.get("/**") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/fhir+json; charset=utf-8"], body: .init(byteBuffer: bytes))
}
var logger = Logger(label: "bench-ceiling")
logger.logLevel = .warning
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { _ in FileHandle.standardOutput.write(Data("ready\n".utf8)) }, logger: logger)
try await app.runService()
