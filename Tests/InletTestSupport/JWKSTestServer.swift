internal import NIOCore
internal import NIOHTTP1
internal import Synchronization

/// A tenant's JWKS endpoint on loopback: answers every request with what the test last
/// set (a JWKS document, an error status, or nothing at all), and counts requests. Tests
/// switch the answer to rotate keys or take the endpoint down.
///
/// ```swift
/// let server = try await JWKSTestServer.start(.jwks(TestRSAKey.jwks([TestRSAKey.primary.jwk()])))
/// let cache = JWKSCache(options: .init(url: server.url), client: client, logger: logger)
/// server.answer(.status(503))
/// await server.stop()
/// ```
public final class JWKSTestServer: Sendable {
    public enum Answer: Sendable {
        /// 200 with this document.
        case jwks([UInt8])
        /// This status with a small JSON error body.
        case status(Int)
        /// No answer, ever.
        case hang
    }

    private struct State {
        var answer: Answer
        var requests = 0
    }

    private let listener: LoopbackHTTPListener
    private let state: StateBox

    private init(listener: LoopbackHTTPListener, state: StateBox) {
        self.listener = listener
        self.state = state
    }

    public var port: Int { self.listener.port }
    /// The endpoint's URL, `http://127.0.0.1:PORT/.well-known/jwks.json`.
    public var url: String { "http://127.0.0.1:\(self.port)/.well-known/jwks.json" }
    /// Requests received so far.
    public var requests: Int { self.state.value.withLock { $0.requests } }

    /// What the next requests get.
    public func answer(_ answer: Answer) { self.state.value.withLock { $0.answer = answer } }

    public static func start(_ answer: Answer) async throws -> JWKSTestServer {
        let state = StateBox(State(answer: answer))
        let listener = try await LoopbackHTTPListener.start { Handler(state: state) }
        return JWKSTestServer(listener: listener, state: state)
    }

    /// Closes the listener and every connection.
    public func stop() async { await self.listener.stop() }

    /// The state, shared by the server object and its connection handlers.
    private final class StateBox: Sendable {
        let value: Mutex<State>
        init(_ state: State) { self.value = Mutex(state) }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: StateBox
        init(state: StateBox) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = self.unwrapInboundIn(data) else { return }
            let answer = self.state.value.withLock { state -> Answer in
                state.requests += 1
                return state.answer
            }
            let headers = [("content-type", "application/json")]
            switch answer {
            case .hang:
                return
            case .jwks(let body):
                context.writeHTTPResponse(status: 200, headers: headers, body: body, keepAlive: true)
            case .status(let code):
                context.writeHTTPResponse(status: code, headers: headers, body: Array(#"{"error":"down"}"#.utf8), keepAlive: true)
            }
        }
    }
}
