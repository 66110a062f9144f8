internal import Hummingbird
internal import InletCore
internal import NIOCore

/// `POST /hooks/auth0-logs`: batches from an Auth0 custom-webhook log stream.
///
/// Authenticated by `Authorization: Bearer AUTH0_LOG_STREAM_TOKEN` (constant-time, as the
/// other bearer routes). The body is a JSON array, JSON lines or one object
/// (``Auth0LogBatch``), up to the body limit. Each entry of a stored type
/// (`INLET_AUTH0_LOG_TYPES`) becomes an event `auth0.log.<type>` with source `auth0-logs`
/// and Auth0's `log_id` as its id, so a redelivered entry is a duplicate; entries of other
/// types are skipped. An entry that cannot be stored as one is kept as an
/// `auth0.log_rejected` event holding the reason and its text (and counted), and the rest
/// goes in. The whole batch, with the user changes of its new `s`, `ss`, `sv` and `du`
/// entries, is one transaction; the answer is 200 only once it is committed (Auth0 retries
/// any other). A body that is not JSON at all is 400.
///
/// Answer: `{"received", "stored", "duplicates", "skipped", "rejected"}`.
struct Auth0LogStreamRoute: Sendable {
    let intake: EventIntake
    let store: any Auth0UserSync
    let authenticator: BearerTokenAuthenticator
    let body: JSONBodyReader
    let types: Auth0LogTypes
    let received: ReceivedEventCounters

    func register(on routes: RouteTable) {
        routes.post("/hooks/auth0-logs") { request, _ in
            try await self.handle(request)
        }
    }

    func handle(_ request: Request) async throws -> Response {
        try self.authenticator.authenticate(request)
        let raw = try await self.body.readBytes(request)
        let entries: [Auth0LogBatch.Entry]
        do {
            entries = try raw.withUnsafeReadableBytes { bytes throws(JSONError) in try Auth0LogBatch.parse(bytes, limits: self.body.limits) }
        } catch {
            self.received.increment(type: "unknown", outcome: "rejected")
            throw APIError.badRequest("the body is not a log-stream batch (a JSON array, JSON lines or one object): \(error.message)")
        }
        var events: [NewEvent] = []
        var changes: [Auth0UserChange?] = []
        var labels: [String] = []
        var skipped = 0
        for entry in entries {
            switch entry {
            case .valid(let entry):
                guard self.types.contains(entry.type) else {
                    skipped += 1
                    self.received.increment(type: entry.type, outcome: "skipped")
                    continue
                }
                events.append(NewEvent(source: .auth0Logs, id: entry.logID, type: entry.eventType, payload: entry.payload))
                changes.append(entry.change)
                labels.append(entry.type)
            case .rejected(let reason, let text):
                // Named by its content, so a redelivered batch keeps it once.
                let id = "rejected-" + Crypto.hex(Array((Crypto.sha256(text) ?? []).prefix(16)))
                let payload: JSONValue = ["error": .string(reason), "entry": .string(text)]
                events.append(NewEvent(source: .auth0Logs, id: id, type: .auth0LogRejected, payload: payload.serializedString))
                changes.append(nil)
                labels.append("unknown")
            }
        }
        let results = events.isEmpty ? [] : try await self.intake.receive(events) { planned in
            try await self.store.appendAuth0Logs(planned, changes: changes)
        }
        var stored = 0
        var duplicates = 0
        var rejected = 0
        for (index, result) in results.enumerated() {
            if events[index].type == .auth0LogRejected {
                rejected += 1
                self.received.increment(type: "unknown", outcome: "rejected")
            } else {
                if result.duplicate { duplicates += 1 } else { stored += 1 }
                self.received.increment(type: labels[index], outcome: result.duplicate ? "duplicate" : "accepted")
            }
        }
        return .json([
            "received": .int(entries.count), "stored": .int(stored), "duplicates": .int(duplicates), "skipped": .int(skipped),
            "rejected": .int(rejected),
        ])
    }
}
