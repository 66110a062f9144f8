/// One finished attempt, as the dispatcher records it.
package struct Completion: Sendable {
    package let claim: Claim
    package let handler: String
    package let outcome: DeliveryOutcome
    /// Whether the outcome itself also gets an audit row.
    package let auditOutcome: Bool
    /// Rows the handler added while it ran, written in the transaction of the outcome.
    package let notes: [AuditNote]
    /// When the handler started and finished (nil: when the store records the outcome).
    package let startedAt: Timestamp?
    package let finishedAt: Timestamp?
    /// The instance that ran it (``Dispatcher/Options/instance``).
    package let instance: String

    /// The audit rows of this outcome, in order: the handler's notes, then (with
    /// `auditOutcome`) the outcome's own: `delivered`, `retry_scheduled` or
    /// `dead_<reason>`, with the attempt and the error.
    package var auditRows: [AuditNote] {
        guard self.auditOutcome else { return self.notes }
        let attempt = "attempt \(self.claim.attempt)"
        let row: AuditNote
        switch self.outcome {
        case .done: row = AuditNote(outcome: "delivered", detail: attempt)
        case .retry(_, let error): row = AuditNote(outcome: "retry_scheduled", detail: "\(attempt): \(error)")
        case .dead(let error, let reason): row = AuditNote(outcome: "dead_\(reason.rawValue)", detail: "\(attempt): \(error)")
        }
        return self.notes + [row]
    }

    /// The attempt row of this outcome, with `now` for a start or end not given.
    package func attemptRecord(now: Timestamp) -> AttemptRecord {
        let outcome: String
        let error: String?
        var next: Timestamp? = nil
        switch self.outcome {
        case .done: (outcome, error) = ("done", nil)
        case .retry(let at, let text):
            (outcome, error) = ("retry", AttemptRecord.excerpt(text))
            next = at
        case .dead(let text, _): (outcome, error) = ("dead", AttemptRecord.excerpt(text))
        }
        return AttemptRecord(
            deliveryID: self.claim.deliveryID, attempt: self.claim.attempt, instance: self.instance, startedAt: self.startedAt ?? now,
            finishedAt: self.finishedAt ?? now, outcome: outcome, error: error, nextAttemptAt: next
        )
    }

    package init(
        claim: Claim, handler: String, outcome: DeliveryOutcome, auditOutcome: Bool = false, notes: [AuditNote] = [],
        startedAt: Timestamp? = nil, finishedAt: Timestamp? = nil, instance: String = InstanceName.default
    ) {
        self.claim = claim
        self.handler = handler
        self.outcome = outcome
        self.auditOutcome = auditOutcome
        self.notes = notes
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.instance = instance
    }
}
