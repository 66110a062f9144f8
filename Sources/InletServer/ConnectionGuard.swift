internal import HTTPTypes
internal import Hummingbird
internal import HummingbirdCore
internal import Logging
internal import NIOCore
internal import NIOHTTPTypes

/// Inlet's HTTP/1 server: Hummingbird's, with an idle timeout, read deadlines and closing
/// after `Connection: close` answers.
///
/// Hummingbird's idle timer is reset by every decoded request part and never sees a head
/// that is still arriving, so a client sending a header byte every few seconds, or a body
/// a byte at a time, would hold its connection for ever. Two handlers close such
/// connections: one at the front of the pipeline notices the first raw byte of a request
/// and starts the head deadline; one after the HTTP decoder starts the body deadline when
/// the head is complete and stops it when the request has ended. Each deadline is
/// `readTimeout`. An answer written before its request's body has arrived (an early 401,
/// 413 or 415) gets `Connection: close`, and the connection is closed once it is written,
/// instead of reading and discarding the body the client announced.
///
/// ```swift
/// Application(router: router, server: .inlet(idleTimeout: 60, readTimeout: 10), ...)
/// ```
struct InletHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let idleTimeout: TimeAmount
    let readTimeout: TimeAmount

    /// Hummingbird's channel, with the deadline handler after the decoder.
    private func http1(logger: Logger) -> HTTP1Channel {
        HTTP1Channel(responder: self.responder, configuration: .init(
            additionalChannelHandlers: [RequestDeadlineHandler(readTimeout: self.readTimeout, logger: logger)],
            idleTimeout: self.idleTimeout
        ))
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(RequestStartHandler(), position: .first)
        }.flatMap {
            self.http1(logger: logger).setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.http1(logger: logger).handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// ``InletHTTP1Channel``: HTTP/1 with an idle timeout and read deadlines, in seconds.
    static func inlet(idleTimeout seconds: Double, readTimeout readSeconds: Double) -> HTTPServerBuilder {
        let idleTimeout = TimeAmount.nanoseconds(Int64(seconds * 1_000_000_000))
        let readTimeout = TimeAmount.nanoseconds(Int64(readSeconds * 1_000_000_000))
        return .init { responder in
            InletHTTP1Channel(responder: responder, idleTimeout: idleTimeout, readTimeout: readTimeout)
        }
    }
}

/// First in the pipeline: tells ``RequestDeadlineHandler`` that bytes arrived, which is
/// when a request's head starts (the decoder says nothing until the head is complete).
final class RequestStartHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var deadlines: RequestDeadlineHandler?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.deadlines == nil {
            self.deadlines = try? context.pipeline.syncOperations.handler(type: RequestDeadlineHandler.self)
        }
        self.deadlines?.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// After the HTTP decoder: closes a connection whose request head or body takes longer
/// than `readTimeout`, and one answered before its request's body arrived.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase {
        /// Between requests: Hummingbird's idle timeout applies.
        case idle
        case readingHead
        case readingBody
        /// The request has ended; its answer is being made.
        case answering
    }

    let readTimeout: TimeAmount
    let logger: Logger
    private var phase = Phase.idle
    private var timer: Scheduled<Void>?
    /// When the request being read must be complete; nil between requests.
    private var deadline: NIODeadline?
    private var context: ChannelHandlerContext?
    private var closeAfterAnswer = false

    init(readTimeout: TimeAmount, logger: Logger) {
        self.readTimeout = readTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.deadline = nil
        self.timer?.cancel()
        self.timer = nil
        self.context = nil
    }

    /// Raw bytes arrived: between requests they are the start of a head.
    func bytesArrived() {
        guard self.phase == .idle else { return }
        self.phase = .readingHead
        self.startTimer()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head:
            self.phase = .readingBody
            self.startTimer()
        case .body:
            break
        case .end:
            self.phase = .answering
            self.stopTimer()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(var head):
            if self.phase == .readingBody {
                // Answered before the request's body arrived (an early 401, 413, 415): close
                // rather than read and discard what the client announced.
                head.headerFields[.connection] = "close"
                self.closeAfterAnswer = true
                context.write(self.wrapOutboundOut(.head(head)), promise: promise)
            } else {
                context.write(data, promise: promise)
            }
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard self.closeAfterAnswer else {
                if self.phase == .answering { self.phase = .idle }
                context.write(data, promise: promise)
                return
            }
            let written = promise ?? context.eventLoop.makePromise()
            context.writeAndFlush(data, promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    /// Starts the current phase's deadline. Under keep-alive load every request has two
    /// phases, so a timer scheduled and cancelled for each would cost four event-loop
    /// operations a request: instead one timer per connection is armed lazily and, when it
    /// fires early (the deadline moved on), re-armed for what is left.
    private func startTimer() {
        let deadline = NIODeadline.now() + self.readTimeout
        self.deadline = deadline
        if self.timer == nil { self.schedule(at: deadline) }
    }

    private func stopTimer() {
        self.deadline = nil
    }

    private func schedule(at deadline: NIODeadline) {
        guard let context = self.context else { return }
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            guard let deadline = self.deadline else { return }  // nothing is being read now
            guard deadline <= .now() else {
                self.schedule(at: deadline)
                return
            }
            // Debug only: a line per slow client would let anyone fill the log.
            self.logger.debug(
                "closing a connection: the request took longer than the read timeout",
                metadata: ["phase": "\(self.phase == .readingHead ? "head" : "body")"]
            )
            context.close(promise: nil)
        }
    }
}
