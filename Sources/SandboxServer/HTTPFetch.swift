import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 client over SwiftNIO (already linked through Hummingbird), for fetching
/// clients' `jwksUri` key sets and for webhook notifications. Plain `http://` only: the sandbox
/// is an offline tool, and Foundation's URLSession would pull libcurl and some thirty shared
/// libraries into start-up.
enum HTTPFetch {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let limit = 256 << 10

    /// An `http://` URL's host, port (80 by default), authority and path (`/` when empty).
    struct Target: Sendable {
        let host: String
        let port: Int
        let authority: String
        let path: String

        init?(_ url: String) {
            guard url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst("http://".count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            let path = rest.dropFirst(authority.count)
            if let colon = authority.lastIndex(of: ":"), let number = Int(authority[authority.index(after: colon)...]) {
                host = String(authority[..<colon])
                port = number
            } else {
                host = String(authority)
                port = 80
            }
            guard !host.isEmpty else { return nil }
            self.authority = String(authority)
            self.path = path.isEmpty ? "/" : String(path)
        }
    }

    static func get(_ url: String) async throws -> (body: [UInt8], cacheControl: String?) {
        guard url.hasPrefix("http://") else {
            throw Failure(description: "only http:// URLs are fetched (register https-hosted keys inline as jwks)")
        }
        guard let target = Target(url) else { throw Failure(description: "no host in \(url)") }
        return try await withThrowingTaskGroup(of: (body: [UInt8], cacheControl: String?).self) { group in
            group.addTask { try await fetch(host: target.host, port: target.port, authority: target.authority, path: target.path) }
            group.addTask {
                try await Task.sleep(for: .seconds(3))
                throw Failure(description: "timed out after 3 s")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private static func fetch(host: String, port: Int, authority: String, path: String) async throws -> (
        body: [UInt8], cacheControl: String?
    ) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(3))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
            head.headers.add(name: "Host", value: authority)
            head.headers.add(name: "Accept", value: "application/json")
            head.headers.add(name: "Connection", value: "close")
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var status = 0
            var cacheControl: String?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let response):
                    status = Int(response.status.code)
                    cacheControl = response.headers["Cache-Control"].first
                case .body(var buffer):
                    body += buffer.readBytes(length: buffer.readableBytes) ?? []
                    guard body.count <= limit else { throw Failure(description: "the response is larger than 256 KiB") }
                case .end:
                    guard status == 200 else { throw Failure(description: "HTTP \(status)") }
                    return (body, cacheControl)
                }
            }
            throw Failure(description: "the connection closed before the response ended")
        }
    }
}
