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
    /// Every recorded attempt, oldest first: filled by ``InletStore/eventRecord(id:)``,
    /// empty in lists.
    public var attemptHistory: [AttemptRecord] = []

    public var json: JSONValue {
        [
            "handler": .string(self.handler), "state": .string(self.state.rawValue), "attempts": .int(self.attempts),
            "next_attempt_at": .string(self.state == .pending ? self.nextAttemptAt.description : nil),
            "last_error": .string(self.lastError), "dead_reason": .string(self.deadReason), "updated_at": .string(self.updatedAt),
            "attempt_history": .array(self.attemptHistory.map(\.json)),
        ]
    }

    package init(id: Int64, handler: String, state: DeliveryState, attempts: Int, nextAttemptAt: Timestamp, lastError: String?, deadReason: String?, updatedAt: String, attemptHistory: [AttemptRecord] = []) {
        self.id = id
        self.handler = handler
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.deadReason = deadReason
        self.updatedAt = updatedAt
        self.attemptHistory = attemptHistory
    }
}
