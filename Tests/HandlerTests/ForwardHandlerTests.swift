import ForwardHandler
import Foundation
import InletCore
import InletHTTPClient
import InletSQLite
import InletTestSupport
import Logging
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ForwardHandlerTests {
    static let key = Array("test-secret-key-bytes-0123456789".utf8)
    /// 2023-11-14T22:13:20.500Z: the signature must use whole seconds.
    static let clock = WallClock { Timestamp(millisecondsSinceEpoch: 1_700_000_000_500) }
    static let context = HandlerContext(
        logger: Logger(label: "forward-test", factory: { _ in SwiftLogNoOpLogHandler() }),
        attempt: 1, deliveryID: 1, clock: clock
    )
    /// Non-ASCII, odd spacing and a trailing newline: any re-serialisation would show.
    static let event = Event(
        seq: 1, source: "productivity", id: "evt_01HX", type: "employee.created",
        receivedAt: "2023-11-14T22:13:20.000Z",
        payload: "{ \"type\":\"employee.created\",  \"data\": {\"name\": \"Zoë Ångström\", \"n\": 1.50} }\n"
    )

    private func handler(_ server: LoopbackHTTPServer, client: OutboundClient, secret: WebhookSecret? = WebhookSecret(keyBytes: Self.key)) -> ForwardHandler {
        ForwardHandler(url: server.url("/hook"), subscriptions: ["employee.*"], secret: secret, client: client, timeout: 5)
    }

    /// Runs `body` and returns the ``HandlerError`` it throws.
    private func handlerError(_ body: () async throws -> Void) async -> HandlerError? {
        do {
            try await body()
            Issue.record("expected a HandlerError")
            return nil
        } catch let error as HandlerError {
            return error
        } catch {
            Issue.record("expected a HandlerError, got \(error)")
            return nil
        }
    }

    @Test func signatureMatchesAFixedVector() {
        // python3 -c 'import hmac,hashlib,base64; print("v1,"+base64.b64encode(hmac.new(
        //   b"test-secret-key-bytes-0123456789", b"msg_1.1700000000.{\"a\":1}", hashlib.sha256).digest()).decode())'
        let signature = WebhookSecret(keyBytes: Self.key).sign(id: "msg_1", timestamp: "1700000000", body: Array(#"{"a":1}"#.utf8))
        #expect(signature == "v1,akRgG+St3jyvupVXMopM3J+rv13CgmhRVxae1evENXw=")
    }

    @Test func success200DeliversTheBodyByteForByteWithAValidSignature() async throws {
        try await withLoopback(script: { _ in .respond(status: 200) }) { server, client in
            try await self.handler(server, client: client).handle(Self.event, context: Self.context)
            let received = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(received.method == "POST")
            #expect(received.uri == "/hook")
            #expect(received.body == Array(Self.event.payload.utf8))
            #expect(received.header("content-type") == "application/json")
            #expect(received.header("webhook-id") == "evt_01HX")
            #expect(received.header("webhook-timestamp") == "1700000000")
            // The receiver's side: Inlet's own verifier accepts what the handler sent.
            let verifier = StandardWebhooksVerifier(secret: WebhookSecret(keyBytes: Self.key))
            #expect(throws: Never.self) {
                try verifier.verify(
                    id: "evt_01HX", timestamp: "1700000000", signatureHeader: received.header("webhook-signature") ?? "",
                    body: received.body, now: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000)
                )
            }
            #expect(received.header("webhook-signature")?.hasPrefix("v1,") == true)
        }
    }

    @Test func withoutASecretNoSignatureIsSent() async throws {
        try await withLoopback(script: { _ in .respond(status: 204) }) { server, client in
            try await self.handler(server, client: client, secret: nil).handle(Self.event, context: Self.context)
            let received = try #require(server.requests.first)
            #expect(received.header("webhook-signature") == nil)
            #expect(received.header("webhook-id") == "evt_01HX")
        }
    }

    @Test func unavailableWithRetryAfterIsTransient() async throws {
        try await withLoopback(script: { _ in .respond(status: 503, headers: [("Retry-After", "7")]) }) { server, client in
            let error = await self.handlerError { try await self.handler(server, client: client).handle(Self.event, context: Self.context) }
            #expect(error?.isPermanent == false)
            #expect(error?.retryAfter == 7)
            #expect(error?.message.contains("503") == true)
        }
    }

    @Test func rateLimitedIsTransientAndHTTPDateRetryAfterIsIgnored() async throws {
        let script: @Sendable (RecordedRequest) -> ScriptedResponse = { _ in
            .respond(status: 429, headers: [("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")])
        }
        try await withLoopback(script: script) { server, client in
            let error = await self.handlerError { try await self.handler(server, client: client).handle(Self.event, context: Self.context) }
            #expect(error?.isPermanent == false)
            #expect(error?.retryAfter == nil)
        }
    }

    @Test func badRequestIsPermanentWithTheStatusAndABodyExcerpt() async throws {
        let body = Array("invalid event: missing employee_id ".utf8) + [UInt8](repeating: UInt8(ascii: "!"), count: 500)
        try await withLoopback(script: { _ in .respond(status: 400, body: body) }) { server, client in
            let error = await self.handlerError { try await self.handler(server, client: client).handle(Self.event, context: Self.context) }
            #expect(error?.isPermanent == true)
            #expect(error?.message.contains("400") == true)
            #expect(error?.message.contains("invalid event: missing employee_id") == true)
            #expect(error?.message.contains(String(decoding: body.prefix(201), as: UTF8.self)) == false)
            #expect(error?.message.contains(String(decoding: body.prefix(200), as: UTF8.self)) == true)
        }
    }

    @Test func networkFailureIsTransient() async throws {
        let port = try await closedPort()
        let client = OutboundClient()
        let handler = ForwardHandler(
            url: "http://127.0.0.1:\(port)/hook", subscriptions: ["*"], secret: WebhookSecret(keyBytes: Self.key), client: client, timeout: 5
        )
        let error = await self.handlerError { try await handler.handle(Self.event, context: Self.context) }
        await client.shutdown()
        #expect(error?.isPermanent == false)
        #expect(error?.retryAfter == nil)
    }

    @Test func anIDTheClientRefusesAsAHeaderIsAPermanentFailure() async throws {
        try await withLoopback(script: { _ in .respond(status: 200) }) { server, client in
            let event = Event(seq: 2, source: "productivity", id: "evt\r\nX-Injected: 1", type: "employee.created", receivedAt: "2023-11-14T22:13:20.000Z", payload: "{}")
            let error = await self.handlerError { try await self.handler(server, client: client).handle(event, context: Self.context) }
            #expect(error?.isPermanent == true)
            #expect(server.requests.isEmpty)
        }
    }

    @Test func theFactoryRequiresHTTPSExceptToLoopbackAndSubscribesToEmployeeEvents() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-forward-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await SQLiteStore.open(path: folder.appendingPathComponent("inlet.sqlite").path)
        let client = OutboundClient()
        func subscriptions(_ values: JSONValue, environment: [String: String] = [:]) throws -> [EventPattern]? {
            try HandlerRegistry(
                factories: [ForwardHandler.factory(client: client)], settings: ["forward": values], environment: environment, stores: store
            ).active.first?.subscriptions
        }
        #expect(throws: ConfigurationError.self) { try subscriptions(["url": "http://hooks.example.com/inlet"]) }
        #expect(try subscriptions(["url": "https://hooks.example.com/inlet"]) == ["employee.*"])
        #expect(try subscriptions(["url": "http://127.0.0.1:9000/inlet", "subscriptions": ["*"]]) == ["*"])
        // The secret must be long enough, and may not be one of Inlet's own.
        #expect(throws: ConfigurationError.self) {
            try subscriptions(["url": "https://hooks.example.com/inlet", "secret_env": "FORWARD_SECRET"], environment: ["FORWARD_SECRET": "whsec_AA=="])
        }
        #expect(throws: ConfigurationError.self) {
            try subscriptions(
                ["url": "https://hooks.example.com/inlet", "secret_env": "ADMIN_API_TOKEN"],
                environment: ["ADMIN_API_TOKEN": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
            )
        }
        let signed = try subscriptions(
            ["url": "https://hooks.example.com/inlet", "secret_env": "FORWARD_SECRET"],
            environment: ["FORWARD_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
        )
        #expect(signed == ["employee.*"])
        await client.shutdown()
        await store.close()
    }

    @Test func timeoutIsTransient() async throws {
        try await withLoopback(script: { _ in .hang }) { server, client in
            let handler = ForwardHandler(url: server.url("/hook"), subscriptions: ["*"], secret: nil, client: client, timeout: 1)
            let error = await self.handlerError { try await handler.handle(Self.event, context: Self.context) }
            #expect(error?.isPermanent == false)
        }
    }
}
