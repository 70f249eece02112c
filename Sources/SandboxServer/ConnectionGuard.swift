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
///
/// A state change only records a deadline; one repeating tick per connection (every second)
/// acts on it. Scheduling and cancelling a timer for every request cost about a fifth of a
/// plain read's throughput.
final class ConnectionGuard: @unchecked Sendable {
    enum State {
        /// Between requests: nothing of the next one has arrived.
        case idle
        /// Bytes of a request arrived, its head is not complete.
        case readingHead
        /// The head arrived, the body is not complete.
        case readingBody
        /// The request is complete; the answer is being produced (no limit).
        case responding
        /// A limit was hit and answered; the connection is closing.
        case closing
    }

    let limits: ConnectionLimits
    private(set) var state = State.idle
    /// When the current state's limit runs out (nil: no limit).
    private(set) var deadline: NIODeadline?
    var tick: RepeatedTask?

    init(limits: ConnectionLimits) { self.limits = limits }

    /// The two handlers to add after the HTTP codec (the raw one places itself first).
    static func handlers(_ limits: ConnectionLimits) -> [any RemovableChannelHandler] {
        [RequestWatcher(guard: ConnectionGuard(limits: limits))]
    }

    func enter(_ state: State) {
        self.state = state
        switch state {
        case .idle: deadline = .now() + limits.idle
        case .readingHead: deadline = .now() + limits.header
        case .readingBody: deadline = .now() + limits.body
        case .responding, .closing: deadline = nil
        }
    }

    func stop() {
        tick?.cancel()
        tick = nil
    }
}

/// Sees the raw bytes: the first byte of a request starts the header clock.
final class RawBytesWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let connection: ConnectionGuard

    init(connection: ConnectionGuard) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if connection.state == .closing { return }  // drained and dropped while the connection lingers
        if connection.state == .idle { connection.enter(.readingHead) }
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
        try? context.pipeline.syncOperations.addHandler(RawBytesWatcher(connection: connection), position: .first)
        connection.enter(.idle)
        connection.tick = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            check()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connection.stop()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.stop()
        context.fireChannelInactive()
    }

    /// The tick: acts when the current state's deadline has passed.
    private func check() {
        guard let deadline = connection.deadline, deadline <= .now(), let context else { return }
        switch connection.state {
        case .idle:
            connection.enter(.closing)
            connection.stop()
            context.channel.close(promise: nil)
        case .readingHead:
            answer(
                status: .requestTimeout,
                "the request head was not complete within \(connection.limits.header.nanoseconds / 1_000_000_000) s of its first byte")
        case .readingBody:
            answer(
                status: .requestTimeout, "the request body was not complete within \(connection.limits.body.nanoseconds / 1_000_000_000) s")
        case .responding, .closing:
            break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard connection.state != .closing else { return }
        switch unwrapInboundIn(data) {
        case .head: connection.enter(.readingBody)
        case .body: break
        case .end: connection.enter(.responding)
        }
        context.fireChannelRead(data)
    }

    /// Set when a handler asked for no answer (test control's `hang` and `drop`): what it
    /// writes is discarded and the connection closed.
    private var discarding = false
    static let closeMarker = HTTPField.Name(closeConnectionMarker)!

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case .head(let head) = part, head.headerFields[Self.closeMarker] != nil {
            discarding = true
            connection.enter(.closing)
            connection.stop()
            context.close(promise: nil)
        }
        if discarding {
            promise?.succeed(())
            return
        }
        // The answer is out: the connection is idle until the next request's first byte.
        if case .end = part, connection.state != .closing { connection.enter(.idle) }
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
        connection.enter(.closing)
        connection.stop()
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
