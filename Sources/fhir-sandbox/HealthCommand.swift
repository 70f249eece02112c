import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `fhir-sandbox health --port P`: exit 0 when the server on this machine answers `GET /_health`
/// with 200 within the timeout, 1 otherwise. For container health checks (the image needs no
/// curl): a plain HTTP/1.0 exchange over a loopback socket.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Exit 0 when the sandbox on this machine answers GET /_health (for container health checks).")

    @Option(help: "Port the server listens on (env FHIR_SANDBOX_PORT; default 8080).")
    var port: Int?

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Int = 3

    func run() {
        let port = port ?? ProcessInfo.processInfo.environment["FHIR_SANDBOX_PORT"].flatMap { Int($0) } ?? 8080
        guard (1...65535).contains(port) else { Options.fail("--port must be 1-65535") }
        let status = Self.status(port: port, timeout: timeout)
        guard status == 200 else {
            FileHandle.standardError.write(
                Data("fhir-sandbox: /_health on port \(port): \(status.map { "HTTP \($0)" } ?? "no answer")\n".utf8))
            Foundation.exit(1)
        }
        print("ok")
    }

    /// The HTTP status of `GET /_health` on 127.0.0.1:`port`, nil when nothing answered.
    static func status(port: Int, timeout: Int) -> Int? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        defer { close(socket) }
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /_health HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(socket, request, request.count, 0) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(socket, &buffer, buffer.count, 0)
        guard count > 12 else { return nil }
        // "HTTP/1.1 200 OK"
        let line = String(decoding: buffer[0..<count], as: UTF8.self)
        let parts = line.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}
