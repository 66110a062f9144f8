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
