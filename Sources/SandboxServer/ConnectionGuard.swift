import FHIRCore
import FHIRInteractions
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Connection limits a server facing other people's code needs (`SandboxConfiguration`):
/// a request head must be complete within `header` of its first byte (slow-header clients get
/// 408), a body within `body` of its head (408), an idle keep-alive connection is closed after
/// `idle`, and a head larger than the decoder's limit is answered 431 instead of being dropped.
struct ConnectionLimits: Sendable {
    var header: TimeAmount
    var body: TimeAmount
    var idle: TimeAmount

    /// Largest request head (request line plus every header), in bytes.
    static let maxHeaderBytes = 64 * 1024
}

/// Watches one HTTP/1.1 connection for the limits above. Two handlers share it: one sees raw
/// bytes before the HTTP decoder (so it knows a request has started), the other sees decoded
/// request parts and written response parts (so it knows where a request stands). Both run on
/// the channel's event loop, which serialises every access.
final class ConnectionGuard: @unchecked Sendable {
    enum State {
        /// Between requests: nothing of the next one has arrived.
        case idle
        /// Bytes of a request arrived, its head is not complete.
        case readingHead
        /// The head arrived, the body is not complete.
        case readingBody
        /// The request is complete; the answer is being produced.
        case responding
        /// A limit was hit and answered; the connection is closing.
        case closing
    }

    let limits: ConnectionLimits
    var state = State.idle
    var timer: Scheduled<Void>?

    init(limits: ConnectionLimits) { self.limits = limits }

    /// The two handlers to add after the HTTP codec (the raw one places itself first).
    static func handlers(_ limits: ConnectionLimits) -> [any RemovableChannelHandler] {
        [RequestWatcher(guard: ConnectionGuard(limits: limits))]
    }

    func arm(_ delay: TimeAmount, on loop: any EventLoop, _ action: @escaping @Sendable () -> Void) {
        timer?.cancel()
        timer = loop.scheduleTask(in: delay, action)
    }

    func disarm() {
        timer?.cancel()
        timer = nil
    }
}

/// Sees the raw bytes: the first byte of a request starts the header clock.
final class RawBytesWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let connection: ConnectionGuard
    let answerer: RequestWatcher

    init(connection: ConnectionGuard, answerer: RequestWatcher) {
        self.connection = connection
        self.answerer = answerer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if connection.state == .closing { return }  // drained and dropped while the connection lingers
        if connection.state == .idle {
            connection.state = .readingHead
            let answerer = answerer
            let limit = connection.limits.header
            connection.arm(limit, on: context.eventLoop) {
                answerer.answer(
                    status: .requestTimeout,
                    "the request head was not complete within \(limit.nanoseconds / 1_000_000_000) s of its first byte")
            }
        }
        context.fireChannelRead(data)
    }
}

/// Sees decoded request parts and the response parts written back.
final class RequestWatcher: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let connection: ConnectionGuard
    private var context: ChannelHandlerContext?

    init(guard connection: ConnectionGuard) { self.connection = connection }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        try? context.pipeline.syncOperations.addHandler(RawBytesWatcher(connection: connection, answerer: self), position: .first)
        armIdle(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connection.disarm()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.disarm()
        context.fireChannelInactive()
    }

    private func armIdle(_ context: ChannelHandlerContext) {
        let channel = context.channel
        connection.arm(connection.limits.idle, on: context.eventLoop) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard connection.state != .closing else { return }
        switch unwrapInboundIn(data) {
        case .head:
            connection.state = .readingBody
            let limit = connection.limits.body
            connection.arm(limit, on: context.eventLoop) { [self] in
                answer(status: .requestTimeout, "the request body was not complete within \(limit.nanoseconds / 1_000_000_000) s")
            }
        case .body: break
        case .end:
            connection.state = .responding
            connection.disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), connection.state != .closing {
            // The answer is out: the connection is idle until the next request's first byte.
            connection.state = .idle
            armIdle(context)
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if connection.state == .closing { return }  // the rest of a request already answered
        if let parse = error as? HTTPParserError {
            if parse == .headerOverflow {
                answer(
                    status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
                    "the request head is larger than this server's limit of \(ConnectionLimits.maxHeaderBytes) bytes")
            } else {
                answer(status: .badRequest, "the request is not valid HTTP/1.1 (\(parse))")
            }
            return
        }
        context.fireErrorCaught(error)
    }

    /// Answers a request the limits stopped with an OperationOutcome, then closes the connection.
    func answer(status: HTTPResponse.Status, _ message: String) {
        guard let context, connection.state != .closing else { return }
        let issueType = status.code == 408 ? "timeout" : status.code == 431 ? "too-costly" : "structure"
        let body = ByteBuffer(bytes: OperationOutcome.make([.init(code: issueType, message: message)]).bytes)
        connection.state = .closing
        connection.disarm()
        var head = HTTPResponse(status: status)
        head.headerFields[.contentType] = FHIRResponse.fhirJSON
        head.headerFields[.contentLength] = String(body.readableBytes)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        // Lingering close: stop sending, keep reading (and dropping) what the client still sends
        // for a moment, so it reads the answer instead of a connection reset.
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }
}
