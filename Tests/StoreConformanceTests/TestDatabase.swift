import InletCore

/// The database under a ``TestedStore``: what a test reads beside the store protocols (row
/// counts, the audit log), a second store on the same database, and the clean-up.
///
/// Both backends keep the same tables and columns (`InletPostgres` mirrors `InletSQLite`'s
/// schema), so the SQL a test passes is the same for both.
protocol TestDatabase: Sendable {
    /// The result of `SELECT count(*) FROM table WHERE condition`.
    func count(_ table: String, where condition: String) async throws -> Int
    /// Every audit row, oldest first.
    func auditRows() async throws -> [AuditRow]
    /// Opens another store on the same database (another process, as far as the database
    /// can tell), with the same clock; throws for a backend that one process holds.
    func openAnother() async throws -> any StoreBackend
    /// Closes `store` and opens the database again (a restart), with the same clock.
    func reopen(closing store: any StoreBackend) async throws -> any StoreBackend
    /// Removes the database (the store is closed by then).
    func remove() async
}

/// One row of the audit log, as a test compares it.
struct AuditRow: Sendable, Equatable, CustomStringConvertible {
    var eventID: String?
    var handler: String?
    var outcome: String
    var detail: String?

    var description: String { "\(self.eventID ?? "-") \(self.handler ?? "-") \(self.outcome) \(self.detail ?? "-")" }

    /// The SQL both backends read the rows with.
    static let query = "SELECT event_id, handler, outcome, detail FROM audit_log ORDER BY id"
}
