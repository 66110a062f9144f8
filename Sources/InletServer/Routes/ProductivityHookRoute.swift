internal import HTTPTypes
internal import Hummingbird
internal import InletCore
internal import NIOCore

/// `POST /hooks/productivity`: employee events from the productivity system.
///
/// Authenticated by a Standard Webhooks signature over the raw bytes (`webhook-*` or
/// `svix-*` headers), checked before any parser sees them, or by a bearer token for a
/// sender that cannot sign. Event ids (`webhook-id`, else the envelope's `id`) must pass
/// ``EventID/isValid(_:)``. A valid event is
/// committed with its deliveries planned, then answered 202; a repeated id is answered 200
/// with `"duplicate": true` and dispatched no second time.
struct ProductivityHookRoute: Sendable {
    let intake: EventIntake
    let verifier: StandardWebhooksVerifier?
    let bearer: BearerTokenAuthenticator?
    let body: JSONBodyReader
    let clock: WallClock
    let acceptUnknownTypes: Bool
    let received: ReceivedEventCounters

    func register(on routes: RouteTable) {
        routes.post("/hooks/productivity") { request, _ in
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

        /// Several signature lines are one space-separated list, each entry considered
        /// (`HTTPFields` would join them with ", ", which no entry survives).
        init?(_ headers: HTTPFields) {
            for (idName, timestampName, signatureName) in Self.names {
                let signatures = headers[values: signatureName]
                if let id = headers[idName], let timestamp = headers[timestampName], !signatures.isEmpty {
                    self.id = id
                    self.timestamp = timestamp
                    self.signature = signatures.joined(separator: " ")
                    return
                }
            }
            return nil
        }
    }

    func handle(_ request: Request) async throws -> Response {
        if let verifier = self.verifier {
            guard let headers = SignatureHeaders(request.headers) else {
                throw APIError.unauthorized("missing webhook-id, webhook-timestamp or webhook-signature header")
            }
            let raw = try await self.body.readBytes(request)
            do {
                try raw.withUnsafeReadableBytes { bytes throws(WebhookVerificationError) in
                    try verifier.verify(id: headers.id, timestamp: headers.timestamp, signatureHeader: headers.signature, body: bytes, now: self.clock.now())
                }
            } catch {
                throw APIError.unauthorized("invalid webhook signature: \(error.message)")
            }
            return try await self.accept(raw: raw, headerID: headers.id, request: request)
        } else if let bearer = self.bearer {
            try bearer.authenticate(request)
            return try await self.accept(raw: try await self.body.readBytes(request), headerID: nil, request: request)
        } else {
            throw APIError.unauthorized("this route is disabled: neither PRODUCTIVITY_WEBHOOK_SECRET nor PRODUCTIVITY_API_TOKEN is configured")
        }
    }

    private func accept(raw: ByteBuffer, headerID: String?, request: Request) async throws -> Response {
        let document = try self.body.parse(raw)
        let envelope = try ProductivityEnvelope(json: document.root.requireObject(), acceptUnknownTypes: self.acceptUnknownTypes)
        let id = headerID ?? envelope.id ?? self.intake.newEventID()
        guard EventID.isValid(id) else {
            throw APIError.badRequest("the event id must be 1 to 256 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
        }
        let result = try await self.intake.receive(
            NewEvent(
                source: .productivity, id: id, type: EventType(envelope.type), payload: String(buffer: raw),
                // The allow-list only: never the signature or the bearer token.
                headers: StoredHeaders.filter(request.headers.lazy.map { ($0.name.canonicalName, $0.value) }),
                // From the tree parsed above, so the intake does not parse the payload again.
                subjects: EventSubjects.of(type: EventType(envelope.type), root: document.root)
            )
        )
        self.received.increment(type: envelope.type, outcome: result.duplicate ? "duplicate" : "accepted")
        // `id` passed EventID.isValid (letters, digits, '.', '_', ':', '-'): nothing to escape.
        return .json(
            text: #"{"accepted":true,"event_id":"\#(id)","duplicate":\#(result.duplicate)}"#, status: result.duplicate ? .ok : .accepted
        )
    }
}

