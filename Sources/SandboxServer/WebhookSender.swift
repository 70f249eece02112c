import ChangeFeeds
import NIOCore
import NIOHTTP1
import NIOPosix

/// Subscription notifications over HTTP/1.1 (plain `http://`, one connection per call): the
/// answer's status, or why there was none. The body of the answer is read and discarded.
struct WebhookSender: WebhookTransport {
    func send(_ request: WebhookRequest, timeoutMilliseconds: Int) async -> Result<Int, WebhookFailure> {
        guard let target = HTTPFetch.Target(request.url) else { return .failure(WebhookFailure("not an http:// URL: \(request.url)")) }
        do {
            let status = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask { try await Self.exchange(request, target: target, timeout: timeoutMilliseconds) }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(timeoutMilliseconds))
                    throw WebhookFailure("no answer within \(timeoutMilliseconds) ms")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            return .success(status)
        } catch let failure as WebhookFailure {
            return .failure(failure)
        } catch {
            return .failure(WebhookFailure("\(error)"))
        }
    }

    static func exchange(_ request: WebhookRequest, target: HTTPFetch.Target, timeout: Int) async throws -> Int {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(timeout)))
            .connect(host: target.host, port: target.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: target.path)
            head.headers.add(name: "Host", value: target.authority)
            head.headers.add(name: "User-Agent", value: "fhir-sandbox/\(Sandbox.version)")
            head.headers.add(name: "Connection", value: "close")
            head.headers.add(name: "Content-Length", value: String(request.body.count))
            for header in request.headers { head.headers.add(name: header.name, value: header.value) }
            // A receiver may answer and close as soon as it has the head (an empty POST): a
            // failed write is then not a failed delivery if its answer came.
            var writeError: (any Error)?
            do {
                try await outbound.write(.head(head))
                if !request.body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: request.body)))) }
                try await outbound.write(.end(nil))
            } catch {
                writeError = error
            }
            var status = 0
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let response): status = Int(response.status.code)
                    case .body: continue
                    case .end: return status
                    }
                }
            } catch {
                if status != 0 { return status }
                throw writeError ?? error
            }
            if status != 0 { return status }
            throw writeError.map { WebhookFailure("\($0)") } ?? WebhookFailure("the connection closed before the answer ended")
        }
    }
}
