/// One finished attempt, as the dispatcher records it.
package struct Completion: Sendable {
    package let claim: Claim
    package let handler: String
    package let outcome: DeliveryOutcome
    /// Whether the outcome itself also gets an audit row.
    package let auditOutcome: Bool
    /// Rows the handler added while it ran, written in the transaction of the outcome.
    package let notes: [AuditNote]

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

    package init(claim: Claim, handler: String, outcome: DeliveryOutcome, auditOutcome: Bool = false, notes: [AuditNote] = []) {
        self.claim = claim
        self.handler = handler
        self.outcome = outcome
        self.auditOutcome = auditOutcome
        self.notes = notes
    }
}
