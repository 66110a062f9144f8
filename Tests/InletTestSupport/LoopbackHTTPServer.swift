import Foundation
public import InletHTTPClient
import InletCore
import NIOCore
import NIOHTTP1
import Synchronization

/// A request as the loopback server received it.
public struct RecordedRequest: Sendable {
    public let method: String
    public let uri: String
    /// Names lower-cased, in order.
    public let headers: [(String, String)]
    public let body: [UInt8]

    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return self.headers.first { $0.0 == name }?.1
    }
}

/// What the loopback server does with one request.
public enum ScriptedResponse: Sendable {
    /// Answers with this status, headers and body (a Content-Length is added).
    case respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = [])
    /// Answers 200 with a JSON object: method, uri, headers (name → value), body (text).
    case echo
    /// Never answers.
    case hang
    /// Declares `declaredLength` bytes, sends `sentBytes` of them, then closes the connection.
    case truncate(declaredLength: Int, sentBytes: Int)
    /// Answers 200 with a chunked body of `totalBytes` (no Content-Length).
    case chunked(totalBytes: Int)
}

/// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) whose answers a closure scripts.
/// It records every request and counts accepted connections.
public final class LoopbackHTTPServer: Sendable {
    private final class Recorded: Sendable {
        let requests = Mutex<[RecordedRequest]>([])
    }

    private let listener: LoopbackHTTPListener
    private let recorded: Recorded

    private init(listener: LoopbackHTTPListener, recorded: Recorded) {
        self.listener = listener
        self.recorded = recorded
    }

    public var port: Int { self.listener.port }
    public var requests: [RecordedRequest] { self.recorded.requests.withLock { $0 } }
    public var acceptedConnections: Int { self.listener.acceptedConnections }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(self.port)\(path)" }

    public static func start(
        script: @escaping @Sendable (RecordedRequest) -> ScriptedResponse
    ) async throws -> LoopbackHTTPServer {
        let recorded = Recorded()
        let listener = try await LoopbackHTTPListener.start {
            ScriptedHTTPHandler(script: script) { request in
                recorded.requests.withLock { $0.append(request) }
            }
        }
        return LoopbackHTTPServer(listener: listener, recorded: recorded)
    }

    /// Closes the listening socket and every connection.
    public func stop() async {
        await self.listener.stop()
    }
}

/// Collects one request, asks the script what to do, does it.
private final class ScriptedHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let script: @Sendable (RecordedRequest) -> ScriptedResponse
    private let record: @Sendable (RecordedRequest) -> Void
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(script: @escaping @Sendable (RecordedRequest) -> ScriptedResponse, record: @escaping @Sendable (RecordedRequest) -> Void) {
        self.script = script
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
        case .body(var buffer):
            self.body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let request = RecordedRequest(
                method: head.method.rawValue,
                uri: head.uri,
                headers: head.headers.map { ($0.name.lowercased(), $0.value) },
                body: self.body
            )
            self.record(request)
            self.answer(self.script(request), to: request, keepAlive: head.isKeepAlive, context: context)
        }
    }

    private func answer(_ response: ScriptedResponse, to request: RecordedRequest, keepAlive: Bool, context: ChannelHandlerContext) {
        switch response {
        case .respond(let status, let headers, let body):
            context.writeHTTPResponse(status: status, headers: headers, body: body, keepAlive: keepAlive)
        case .echo:
            let object: [String: Any] = [
                "method": request.method,
                "uri": request.uri,
                "headers": Dictionary(request.headers, uniquingKeysWith: { first, _ in first }),
                "body": String(decoding: request.body, as: UTF8.self),
            ]
            let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            context.writeHTTPResponse(status: 200, headers: [("content-type", "application/json")], body: Array(json), keepAlive: keepAlive)
        case .hang:
            break
        case .truncate(let declaredLength, let sentBytes):
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: String(declaredLength))
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            let buffer = context.channel.allocator.buffer(bytes: [UInt8](repeating: UInt8(ascii: "x"), count: sentBytes))
            context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            context.close(promise: nil)
        case .chunked(let totalBytes):
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok))), promise: nil)
            var remaining = totalBytes
            while remaining > 0 {
                let size = min(remaining, 64 * 1024)
                let buffer = context.channel.allocator.buffer(bytes: [UInt8](repeating: UInt8(ascii: "y"), count: size))
                context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                remaining -= size
            }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// Runs `body` with a fresh server and client, and always stops both.
public func withLoopback<T>(
    configuration: OutboundClient.Configuration = .init(),
    script: @escaping @Sendable (RecordedRequest) -> ScriptedResponse,
    _ body: (LoopbackHTTPServer, OutboundClient) async throws -> T
) async throws -> T {
    let server = try await LoopbackHTTPServer.start(script: script)
    let client = OutboundClient(configuration: configuration)
    do {
        let result = try await body(server, client)
        await client.shutdown()
        await server.stop()
        return result
    } catch {
        await client.shutdown()
        await server.stop()
        throw error
    }
}

/// A loopback port with nothing listening on it.
public func closedPort() async throws -> Int {
    let server = try await LoopbackHTTPServer.start { _ in .hang }
    let port = server.port
    await server.stop()
    return port
}
