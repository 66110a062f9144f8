/// A row a handler adds to the audit log with ``HandlerContext/audit(_:detail:)``.
package struct AuditNote: Sendable, Equatable {
    package let outcome: String
    package let detail: String?

    package init(outcome: String, detail: String?) {
        self.outcome = outcome
        self.detail = detail
    }
}
