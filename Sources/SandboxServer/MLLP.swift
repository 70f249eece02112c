import ChangeFeeds
import NIOCore
import NIOPosix

/// MLLP framing (HL7 v2 over TCP): `<VT>` message `<FS><CR>`. Bytes outside a frame (other than
/// line breaks between frames) or a frame larger than the limit end the connection: the peer is
/// not speaking MLLP.
struct MLLPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct FramingError: Error, CustomStringConvertible {
        let description: String
    }

    static let start: UInt8 = 0x0B
    static let end: UInt8 = 0x1C
    static let carriageReturn: UInt8 = 0x0D
    /// The largest frame read (an HL7 message may have 1 MiB; framing and slack on top).
    static let limit = (1 << 20) + 1024

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), byte == 0x0D || byte == 0x0A {
            buffer.moveReaderIndex(forwardBy: 1)
        }
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return .needMoreData }
        guard first == Self.start else { throw FramingError(description: "bytes outside an MLLP frame (expected <VT>, 0x0B)") }
        let view = buffer.readableBytesView
        if let endIndex = view.firstIndex(of: Self.end) {
            let next = view.index(after: endIndex)
            guard next < view.endIndex else { return .needMoreData }
            guard view[next] == Self.carriageReturn else { throw FramingError(description: "<FS> not followed by <CR>") }
            let length = endIndex - view.startIndex - 1
            buffer.moveReaderIndex(forwardBy: 1)
            let message = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 2)
            context.fireChannelRead(wrapInboundOut(message))
            return .continue
        }
        guard buffer.readableBytes <= Self.limit else { throw FramingError(description: "a frame larger than \(Self.limit) bytes") }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

struct MLLPFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(MLLPFrameDecoder.start)
        out.writeImmutableBuffer(data)
        out.writeInteger(MLLPFrameDecoder.end)
        out.writeInteger(MLLPFrameDecoder.carriageReturn)
    }
}

enum MLLP {
    /// Adds the framing handlers and wraps the channel for async use.
    static func wrap(_ channel: any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MLLPFrameDecoder()))
            try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MLLPFrameEncoder()))
            return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
    }
}

/// The outbound feed's connections (`HL7Feed`).
struct MLLPClient: MLLPConnector {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func connect(host: String, port: Int, timeoutMilliseconds: Int) async throws -> any MLLPConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(timeoutMilliseconds)))
            .connect(host: host, port: port) { MLLP.wrap($0) }
        return Connection(channel: channel)
    }

    /// One connection, served by a task that owns the channel; exchanges are serialised by the
    /// feed (one message at a time).
    final class Connection: MLLPConnection {
        typealias Request = (message: String, reply: CheckedContinuation<String, any Error>)

        let channel: any Channel
        let requests: AsyncStream<Request>.Continuation

        init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
            self.channel = channel.channel
            let (stream, requests) = AsyncStream.makeStream(of: Request.self)
            self.requests = requests
            Task {
                var pending: CheckedContinuation<String, any Error>?
                do {
                    try await channel.executeThenClose { inbound, outbound in
                        var answers = inbound.makeAsyncIterator()
                        for await request in stream {
                            pending = request.reply
                            try await outbound.write(ByteBuffer(string: request.message))
                            guard let answer = try await answers.next() else { break }
                            pending = nil
                            request.reply.resume(returning: String(buffer: answer))
                        }
                    }
                } catch {}
                pending?.resume(throwing: Failure(description: "the connection closed before the ACK came"))
                requests.finish()
                for await request in stream { request.reply.resume(throwing: Failure(description: "the connection is closed")) }
            }
        }

        func exchange(_ message: String, timeoutMilliseconds: Int) async throws -> String {
            let channel = channel
            let timeout = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeoutMilliseconds))) { channel.close(promise: nil) }
            defer { timeout.cancel() }
            do {
                return try await withCheckedThrowingContinuation { reply in
                    if case .terminated = requests.yield((message, reply)) {
                        reply.resume(throwing: Failure(description: "the connection is closed"))
                    }
                }
            } catch {
                throw Failure(description: "no ACK within \(timeoutMilliseconds) ms, or the connection closed")
            }
        }

        func close() async {
            requests.finish()
            try? await channel.close()
        }
    }
}

/// An MLLP listener for inbound messages: each framed message is answered by `answer` on the
/// same connection, in order.
final class MLLPListener: Sendable {
    let host: String
    let port: Int
    let answer: @Sendable (String) async -> String?

    init(host: String, port: Int, answer: @escaping @Sendable (String) async -> String?) {
        self.host = host
        self.port = port
        self.answer = answer
    }

    /// Binds and serves in the background; returns the bound port.
    func start() async throws -> Int {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { MLLP.wrap($0) }
        let bound = server.channel.localAddress?.port ?? port
        let answer = answer
        Task {
            try? await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await Self.serve(connection, answer: answer) }
                    }
                }
            }
        }
        return bound
    }

    static func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, answer: @Sendable (String) async -> String?) async {
        try? await connection.executeThenClose { inbound, outbound in
            for try await frame in inbound {
                guard let reply = await answer(String(buffer: frame)) else { return }
                try await outbound.write(ByteBuffer(string: reply))
            }
        }
    }
}
