internal import CoreMetrics
internal import HTTPTypes
internal import Hummingbird
internal import InletCore
internal import NIOCore
internal import Synchronization

/// `POST /hooks/productivity`: employee events from the productivity system.
///
/// Authenticated by a Standard Webhooks signature over the raw bytes (`webhook-*` or
/// `svix-*` headers), or by a bearer token for a sender that cannot sign. A valid event is
/// committed with its deliveries planned, then answered 202; a repeated id is answered 200
/// with `"duplicate": true` and dispatched no second time.
struct ProductivityHookRoute: Sendable {
    let store: any InletStore
    let registry: HandlerRegistry
    let dispatcher: Dispatcher
    let verifier: StandardWebhooksVerifier?
    let bearer: BearerTokenAuthenticator?
    let body: JSONBodyReader
    let clock: WallClock
    let acceptUnknownTypes: Bool
    let received: ReceivedEventCounters

    func register(on router: Router<InletRequestContext>, routes: RouteTable) {
        routes.add("/hooks/productivity", .post)
        router.post("/hooks/productivity") { request, _ in
            do {
                return try await self.handle(request)
            } catch {
                self.received.increment(type: "unknown", outcome: "rejected")
                throw error
            }
        }
    }

    /// The signature headers, under either prefix.
    private struct SignatureHeaders {
        let id: String
        let timestamp: String
        let signature: String

        /// (id, timestamp, signature) header names, `webhook-*` first, then `svix-*`.
        private static let names: [(HTTPField.Name, HTTPField.Name, HTTPField.Name)] = ["webhook", "svix"].map { prefix in
            (HTTPField.Name("\(prefix)-id")!, HTTPField.Name("\(prefix)-timestamp")!, HTTPField.Name("\(prefix)-signature")!)
        }

        init?(_ headers: HTTPFields) {
            for (idName, timestampName, signatureName) in Self.names {
                if let id = headers[idName], let timestamp = headers[timestampName], let signature = headers[signatureName] {
                    self.id = id
                    self.timestamp = timestamp
                    self.signature = signature
                    return
                }
            }
            return nil
        }
    }

    func handle(_ request: Request) async throws -> Response {
        let signed: SignatureHeaders?
        if let verifier = self.verifier {
            guard let headers = SignatureHeaders(request.headers) else {
                throw APIError.unauthorized("missing webhook-id, webhook-timestamp or webhook-signature header")
            }
            signed = headers
            let (document, raw) = try await self.body.read(request)
            do {
                try raw.withUnsafeReadableBytes { bytes throws(WebhookVerificationError) in
                    try verifier.verify(id: headers.id, timestamp: headers.timestamp, signatureHeader: headers.signature, body: bytes, now: self.clock.now())
                }
            } catch {
                throw APIError.unauthorized("invalid webhook signature: \(error.message)")
            }
            return try await self.accept(document: document, raw: raw, headerID: signed?.id)
        } else if let bearer = self.bearer {
            try bearer.authenticate(request)
            let (document, raw) = try await self.body.read(request)
            return try await self.accept(document: document, raw: raw, headerID: nil)
        } else {
            throw APIError.unauthorized("this route is disabled: neither PRODUCTIVITY_WEBHOOK_SECRET nor PRODUCTIVITY_API_TOKEN is configured")
        }
    }

    private func accept(document: JSONDocument, raw: ByteBuffer, headerID: String?) async throws -> Response {
        let envelope = try ProductivityEnvelope(json: document.root.requireObject(), acceptUnknownTypes: self.acceptUnknownTypes)
        let id = headerID ?? envelope.id ?? EventID.generate(at: self.clock.now())
        let handlers = self.registry.subscribers(of: envelope.type)
        let result = try await self.store.appendEvent(
            source: "productivity", id: id, type: envelope.type, payload: String(buffer: raw), handlers: handlers
        )
        self.received.increment(type: envelope.type, outcome: result.duplicate ? "duplicate" : "accepted")
        if !result.duplicate {
            self.dispatcher.notify(handlers)
        }
        return .json(
            ["accepted": true, "event_id": .string(id), "duplicate": .bool(result.duplicate)],
            status: result.duplicate ? .ok : .accepted
        )
    }
}

/// `inlet_events_received_total{source="productivity", type, outcome}`, each counter made
/// once and kept.
final class ReceivedEventCounters: Sendable {
    private let factory: any MetricsFactory
    private struct Key: Hashable {
        let type: String
        let outcome: String
    }

    private let counters = Mutex<[Key: Counter]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func increment(type: String, outcome: String) {
        let key = Key(type: type, outcome: outcome)
        let counter = self.counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "inlet_events_received_total",
                dimensions: [("source", "productivity"), ("type", type), ("outcome", outcome)], factory: self.factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
    }
}
