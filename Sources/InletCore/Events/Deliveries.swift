/// Where one handler's delivery of one event stands.
public enum DeliveryState: String, Sendable, CaseIterable {
    case pending, running, done, dead
}

/// A delivery claimed by a worker: run the handler on `event`, then report the outcome.
///
/// The claim's `token` fences it: the store records its outcome, or renews its lease, only
/// while no later claim (after the lease expired) or replay has taken the delivery over.
public struct Claim: Sendable {
    public let deliveryID: Int64
    /// Unique to this claim of the delivery.
    public let token: Int64
    /// This attempt's number, 1 for the first.
    public let attempt: Int
    public let event: Event

    public init(deliveryID: Int64, token: Int64, attempt: Int, event: Event) {
        self.deliveryID = deliveryID
        self.token = token
        self.attempt = attempt
        self.event = event
    }
}

/// What became of one attempt.
public enum DeliveryOutcome: Sendable, Equatable {
    case done
    /// Try again at `at`; `error` is kept as the delivery's last error.
    case retry(at: Timestamp, error: String)
    /// Stop: `permanent` when the handler refused, `exhausted` when attempts ran out.
    case dead(error: String, reason: DeadReason)

    public enum DeadReason: String, Sendable {
        case permanent, exhausted
    }

    /// The last error of a delivery that was claimed `attempts` times without an outcome.
    public static func abandonedError(attempts: Int) -> String {
        "no outcome after \(attempts) attempts (the process stopped while running it)"
    }
}

/// A row a handler adds to the audit log with ``HandlerContext/audit(_:detail:)``.
public struct AuditNote: Sendable, Equatable {
    public let outcome: String
    public let detail: String?

    public init(outcome: String, detail: String?) {
        self.outcome = outcome
        self.detail = detail
    }
}

/// One finished attempt, as the dispatcher records it.
public struct Completion: Sendable {
    public let claim: Claim
    public let handler: String
    public let outcome: DeliveryOutcome
    /// Whether the outcome itself also gets an audit row.
    public let auditOutcome: Bool
    /// Rows the handler added while it ran, written in the transaction of the outcome.
    public let notes: [AuditNote]

    public init(claim: Claim, handler: String, outcome: DeliveryOutcome, auditOutcome: Bool = false, notes: [AuditNote] = []) {
        self.claim = claim
        self.handler = handler
        self.outcome = outcome
        self.auditOutcome = auditOutcome
        self.notes = notes
    }
}

/// The result of appending an event.
public struct AppendResult: Sendable, Equatable {
    public let seq: Int64
    public let eventID: String
    /// The same source and id were already stored; nothing was planned again.
    public let duplicate: Bool
}

/// A delivery as operators see it.
public struct DeliveryRecord: Sendable, Equatable {
    public let id: Int64
    public let handler: String
    public let state: DeliveryState
    public let attempts: Int
    public let nextAttemptAt: Timestamp
    public let lastError: String?
    public let deadReason: String?
    public let updatedAt: String

    public var json: JSONValue {
        [
            "handler": .string(self.handler), "state": .string(self.state.rawValue), "attempts": .int(self.attempts),
            "next_attempt_at": .string(self.state == .pending ? self.nextAttemptAt.description : nil),
            "last_error": .string(self.lastError), "dead_reason": .string(self.deadReason), "updated_at": .string(self.updatedAt),
        ]
    }
}

/// An event with every handler's delivery of it.
public struct EventRecord: Sendable, Equatable {
    public let event: Event
    public let deliveries: [DeliveryRecord]

    /// `payload` is included parsed when it is JSON.
    public func json(includePayload: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(self.event.id)), ("source", .string(self.event.source)), ("type", .string(self.event.type)),
            ("received_at", .string(self.event.receivedAt)), ("deliveries", .array(self.deliveries.map(\.json))),
        ]
        if includePayload, let document = try? self.event.json() {
            members.append(("payload", document.root.value))
        }
        return .object(members)
    }
}

/// An event to append (see ``InletStore/appendEvents(_:handlers:)``).
public struct NewEvent: Sendable {
    public let source: String
    public let id: String
    public let type: String
    public let payload: String

    public init(source: String, id: String, type: String, payload: String) {
        self.source = source
        self.id = id
        self.type = type
        self.payload = payload
    }
}
