/// Where one handler's delivery of one event stands.
public enum DeliveryState: String, Sendable, CaseIterable {
    case pending, running, done, dead
}

/// A delivery claimed by a worker: run the handler on `event`, then report the outcome.
///
/// The claim's `token` fences it: the store records its outcome, or renews its lease, only
/// while no later claim (after the lease expired) or replay has taken the delivery over.
package struct Claim: Sendable {
    package let deliveryID: Int64
    /// Unique to this claim of the delivery.
    package let token: Int64
    /// This attempt's number, 1 for the first.
    package let attempt: Int
    package let event: Event

    package init(deliveryID: Int64, token: Int64, attempt: Int, event: Event) {
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
package struct AuditNote: Sendable, Equatable {
    package let outcome: String
    package let detail: String?

    package init(outcome: String, detail: String?) {
        self.outcome = outcome
        self.detail = detail
    }
}

/// One finished attempt, as the dispatcher records it.
package struct Completion: Sendable {
    package let claim: Claim
    package let handler: String
    package let outcome: DeliveryOutcome
    /// Whether the outcome itself also gets an audit row.
    package let auditOutcome: Bool
    /// Rows the handler added while it ran, written in the transaction of the outcome.
    package let notes: [AuditNote]

    package init(claim: Claim, handler: String, outcome: DeliveryOutcome, auditOutcome: Bool = false, notes: [AuditNote] = []) {
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
    /// The handlers a delivery was planned for (none for a duplicate).
    public var handlers: [String] = []

    package init(seq: Int64, eventID: String, duplicate: Bool, handlers: [String] = []) {
        self.seq = seq
        self.eventID = eventID
        self.duplicate = duplicate
        self.handlers = handlers
    }
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

    package init(id: Int64, handler: String, state: DeliveryState, attempts: Int, nextAttemptAt: Timestamp, lastError: String?, deadReason: String?, updatedAt: String) {
        self.id = id
        self.handler = handler
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.deadReason = deadReason
        self.updatedAt = updatedAt
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

    package init(event: Event, deliveries: [DeliveryRecord]) {
        self.event = event
        self.deliveries = deliveries
    }
}

/// An event to append, with the handlers that get a delivery of it (the intake fills
/// them in from the registry).
package struct NewEvent: Sendable {
    package let source: EventSource
    package let id: String
    package let type: EventType
    package let payload: String
    package var handlers: [String]

    package init(source: EventSource, id: String, type: EventType, payload: String, handlers: [String] = []) {
        self.source = source
        self.id = id
        self.type = type
        self.payload = payload
        self.handlers = handlers
    }
}
