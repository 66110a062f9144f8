import Foundation
import InletCore
import InletTestSupport
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

// MARK: - A scripted loopback HTTP/1.1 server

/// A request as the loopback server received it.
struct RecordedRequest: Sendable {
    let method: String
    let uri: String
    /// Names lower-cased, in order.
    let headers: [(String, String)]
    let body: [UInt8]

    func header(_ name: String) -> String? {
        let name = name.lowercased()
        return self.headers.first { $0.0 == name }?.1
    }
}

/// What the loopback server does with one request.
enum ScriptedResponse: Sendable {
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
final class LoopbackHTTPServer: Sendable {
    private final class Recorded: Sendable {
        let requests = Mutex<[RecordedRequest]>([])
    }

    private let listener: LoopbackHTTPListener
    private let recorded: Recorded

    private init(listener: LoopbackHTTPListener, recorded: Recorded) {
        self.listener = listener
        self.recorded = recorded
    }

    var port: Int { self.listener.port }
    var requests: [RecordedRequest] { self.recorded.requests.withLock { $0 } }
    var acceptedConnections: Int { self.listener.acceptedConnections }

    func url(_ path: String) -> String { "http://127.0.0.1:\(self.port)\(path)" }

    static func start(
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
    func stop() async {
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

// MARK: - Helpers

/// Runs `body` with a fresh server and client, and always stops both.
func withLoopback<T>(
    configuration: HTTPClient.Configuration = .init(),
    script: @escaping @Sendable (RecordedRequest) -> ScriptedResponse,
    _ body: (LoopbackHTTPServer, HTTPClient) async throws -> T
) async throws -> T {
    let server = try await LoopbackHTTPServer.start(script: script)
    let client = HTTPClient(configuration: configuration)
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

/// Runs `body`, which must throw an ``HTTPClientError``, and returns that error.
func expectClientError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> OutboundResponse
) async -> HTTPClientError? {
    do {
        let response = try await body()
        Issue.record("expected an HTTPClientError, got status \(response.status)", sourceLocation: sourceLocation)
        return nil
    } catch let error as HTTPClientError {
        return error
    } catch {
        Issue.record("expected an HTTPClientError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A loopback port with nothing listening on it.
func closedPort() async throws -> Int {
    let server = try await LoopbackHTTPServer.start { _ in .hang }
    let port = server.port
    await server.stop()
    return port
}

// MARK: - Tests

@Suite(.timeLimit(.minutes(1)))
struct HTTPClientTests {
    @Test func getRoundTripSendsHeadersAndParsesJSON() async throws {
        try await withLoopback(script: { _ in .echo }) { server, client in
            let response = try await client.execute(OutboundRequest(
                url: server.url("/echo?x=1"), headers: [("X-Test", "hello world"), ("Accept", "application/json")], timeout: 10
            ))
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            let echoed = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            #expect(echoed["method"] as? String == "GET")
            #expect(echoed["uri"] as? String == "/echo?x=1")
            let headers = try #require(echoed["headers"] as? [String: String])
            #expect(headers["x-test"] == "hello world")
            #expect(headers["accept"] == "application/json")
            #expect(headers["user-agent"]?.hasPrefix("inlet/") == true)
            #expect(server.requests.first?.body == [])
        }
    }

    @Test func postRoundTripSendsTheBodyByteForByte() async throws {
        // Larger than 1 KiB, where older curl would otherwise wait for `100 Continue`.
        let body = Array("{\"name\":\"Zoë\",\"pad\":\"\(String(repeating: "z", count: 4000))\"}\n".utf8) + [0, 255]
        try await withLoopback(script: { _ in .echo }) { server, client in
            let response = try await client.execute(OutboundRequest(
                method: "POST", url: server.url("/echo"), headers: [("content-type", "application/json")], body: body, timeout: 10
            ))
            #expect(response.status == 200)
            let received = try #require(server.requests.first)
            #expect(received.method == "POST")
            #expect(received.body == body)
            #expect(received.header("content-length") == String(body.count))
            #expect(received.header("content-type") == "application/json")
            #expect(received.header("expect") == nil)
        }
    }

    @Test func otherMethodsAndEmptyPost() async throws {
        try await withLoopback(script: { _ in .respond(status: 204) }) { server, client in
            let put = try await client.execute(OutboundRequest(method: "PATCH", url: server.url("/p"), body: Array("{}".utf8), timeout: 10))
            let delete = try await client.execute(OutboundRequest(method: "DELETE", url: server.url("/d"), timeout: 10))
            let post = try await client.execute(OutboundRequest(method: "POST", url: server.url("/e"), timeout: 10))
            #expect([put.status, delete.status, post.status] == [Int](repeating: 204, count: 3))
            let requests = server.requests
            #expect(requests.map(\.method) == ["PATCH", "DELETE", "POST"])
            #expect(requests[0].body == Array("{}".utf8))
            #expect(requests[2].header("content-length") == "0")
        }
    }

    @Test func statusAndResponseHeadersAreParsed() async throws {
        let script: @Sendable (RecordedRequest) -> ScriptedResponse = { _ in
            .respond(status: 418, headers: [("X-Custom", "  a b  "), ("Retry-After", "7"), ("Set-Cookie", "one"), ("Set-Cookie", "two")],
                     body: Array("short and stout".utf8))
        }
        try await withLoopback(script: script) { server, client in
            let response = try await client.execute(OutboundRequest(url: server.url("/teapot"), timeout: 10))
            #expect(response.status == 418)
            #expect(response.body == Array("short and stout".utf8))
            #expect(response.header("x-custom") == "a b")
            #expect(response.header("X-CUSTOM") == "a b")
            #expect(response.header("retry-after") == "7")
            #expect(response.headers.filter { $0.0 == "set-cookie" }.map(\.1) == ["one", "two"])
            #expect(response.headers.allSatisfy { $0.0 == $0.0.lowercased() })
            #expect(response.header("missing") == nil)
        }
    }

    @Test func neverAnsweringServerHitsTheTotalTimeout() async throws {
        try await withLoopback(script: { _ in .hang }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(
                    url: server.url("/hang"), headers: [("Authorization", "Bearer secret-token-123")], connectTimeout: 1, timeout: 1
                ))
            }
            #expect(error?.isTimeout == true)
            #expect(error?.isConnectionFailure == false)
            #expect(error?.description.lowercased().contains("time") == true)
            #expect(error?.description.contains("secret-token-123") == false)
        }
    }

    @Test func closeMidResponseIsAnError() async throws {
        try await withLoopback(script: { _ in .truncate(declaredLength: 1000, sentBytes: 10) }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(url: server.url("/cut"), timeout: 10))
            }
            #expect(error != nil)
            #expect(error?.isTimeout == false)
            #expect(error?.isResponseTooLarge == false)
        }
    }

    @Test func oversizedResponseWithContentLengthIsRefused() async throws {
        let big = [UInt8](repeating: 0x41, count: 200_000)
        try await withLoopback(script: { _ in .respond(status: 200, body: big) }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(url: server.url("/big"), timeout: 10, maxResponseBytes: 64 * 1024))
            }
            #expect(error?.isResponseTooLarge == true)
            // The same size within the limit is fine.
            let response = try await client.execute(OutboundRequest(url: server.url("/big"), timeout: 10, maxResponseBytes: big.count))
            #expect(response.body.count == big.count)
        }
    }

    @Test func oversizedChunkedResponseIsAbortedByTheWriteCallback() async throws {
        try await withLoopback(script: { _ in .chunked(totalBytes: 2 << 20) }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(url: server.url("/stream"), timeout: 10))  // default limit, 1 MiB
            }
            #expect(error?.isResponseTooLarge == true)
            #expect(error?.description.contains("\(1 << 20)") == true)
        }
    }

    @Test func fiftyConcurrentRequestsReuseConnections() async throws {
        try await withLoopback(script: { _ in .echo }) { server, client in
            let statuses = try await withThrowingTaskGroup(of: (Int, Int, String?).self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let response = try await client.execute(OutboundRequest(url: server.url("/echo?n=\(index)"), timeout: 20))
                        let echoed = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                        return (index, response.status, echoed?["uri"] as? String)
                    }
                }
                var results: [(Int, Int, String?)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(statuses.count == 50)
            for (index, status, uri) in statuses {
                #expect(status == 200)
                #expect(uri == "/echo?n=\(index)")
            }
            #expect(server.requests.count == 50)
            #expect(server.acceptedConnections < 50)
            #expect(server.acceptedConnections <= client.configuration.maxConnectionsPerHost)
        }
    }

    @Test func refusedConnectionIsAConnectionFailure() async throws {
        let port = try await closedPort()
        let client = HTTPClient()
        let error = await expectClientError {
            try await client.execute(OutboundRequest(url: "http://127.0.0.1:\(port)/", connectTimeout: 5, timeout: 5))
        }
        await client.shutdown()
        #expect(error?.isConnectionFailure == true)
        #expect(error?.isTimeout == false)
        #expect(error?.curlCode == 7)  // CURLE_COULDNT_CONNECT
    }

    @Test func headerInjectionIsRefusedWithoutEchoingTheValue() async throws {
        let client = HTTPClient()
        let error = await expectClientError {
            try await client.execute(OutboundRequest(url: "http://127.0.0.1:1/", headers: [("X-Token", "secret\r\nInjected: yes")]))
        }
        await client.shutdown()
        #expect(error?.isInvalidRequest == true)
        #expect(error?.description.contains("secret") == false)
    }

    @Test func proxyVariablesAreIgnoredUnlessAProxyIsConfigured() async throws {
        let closed = try await closedPort()
        setenv("http_proxy", "http://127.0.0.1:\(closed)", 1)
        defer { unsetenv("http_proxy") }
        try await withLoopback(script: { _ in .respond(status: 200) }) { server, client in
            let response = try await client.execute(OutboundRequest(url: server.url("/direct"), timeout: 5))
            #expect(response.status == 200)
        }
        // A configured proxy (INLET_HTTP_PROXY) gets every request, in absolute form.
        try await withLoopback(script: { _ in .respond(status: 204) }) { proxy, _ in
            let client = HTTPClient(configuration: .init(proxy: proxy.url("")))
            let response = try await client.execute(OutboundRequest(url: "http://upstream.invalid/x", timeout: 5))
            await client.shutdown()
            #expect(response.status == 204)
            #expect(proxy.requests.first?.uri == "http://upstream.invalid/x")
        }
    }

    @Test func unsupportedSchemeIsRefused() async throws {
        let client = HTTPClient()
        let error = await expectClientError {
            try await client.execute(OutboundRequest(url: "file:///etc/passwd", timeout: 5))
        }
        await client.shutdown()
        #expect(error?.curlCode == 1)  // CURLE_UNSUPPORTED_PROTOCOL
    }

    @Test func caBundleIsAppliedToHTTPS() async throws {
        // A missing bundle must fail the TLS set-up, never fall back to no verification.
        let configuration = HTTPClient.Configuration(caBundlePath: "/nonexistent/inlet-test-ca.pem")
        try await withLoopback(configuration: configuration, script: { _ in .echo }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(url: "https://127.0.0.1:\(server.port)/", timeout: 5))
            }
            #expect(error?.isTLSFailure == true)
        }
    }

    @Test func shutdownFailsInFlightRequests() async throws {
        let server = try await LoopbackHTTPServer.start { _ in .hang }
        let client = HTTPClient()
        let pending = Task { try await client.execute(OutboundRequest(url: server.url("/hang"), timeout: 30)) }
        try await eventually("the request to arrive") { server.requests.count == 1 }
        await client.shutdown()
        let error = await expectClientError { try await pending.value }
        #expect(error?.isShutdown == true)
        // Later requests fail the same way.
        let after = await expectClientError { try await client.execute(OutboundRequest(url: server.url("/"), timeout: 5)) }
        #expect(after?.isShutdown == true)
        await server.stop()
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        try await withLoopback(script: { _ in .hang }) { server, client in
            let pending = Task { try await client.execute(OutboundRequest(url: server.url("/hang"), timeout: 30)) }
            try await eventually("the request to arrive") { server.requests.count == 1 }
            pending.cancel()
            await #expect(throws: CancellationError.self) { try await pending.value }
            // The client still works afterwards.
            let again = Task { try await client.execute(OutboundRequest(url: server.url("/hang"), timeout: 1)) }
            let error = await expectClientError { try await again.value }
            #expect(error?.isTimeout == true)
        }
    }
}
