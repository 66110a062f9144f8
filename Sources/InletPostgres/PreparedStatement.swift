internal import PostgresNIO

/// The text of a statement that runs on every request or claim, with `$n` parameters.
protocol PreparedText: Sendable {
    static var sql: String { get }
}

/// A statement prepared once per connection (postgres-nio keeps them by name), so that
/// PostgreSQL parses and plans it once, not on every call: parsing and planning the
/// hot statements was most of PostgreSQL's CPU per request. Rows come back undecoded.
struct Prepared<Text: PreparedText>: PostgresPreparedStatement {
    static var name: String { "inlet_\(Text.self)" }
    static var sql: String { Text.sql }
    let bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { self.bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresStore {
    /// Runs a prepared statement with `bindings` on the pool; returns its rows once
    /// PostgreSQL has committed it (``PostgresConnection/confirmCommitted(logger:)``), or
    /// at once with `confirmed: false`: a claim or a renewal, which commit without waiting
    /// for their WAL flush anyway, and whose loss only runs a delivery again. `patient`:
    /// see ``PostgresStore/call(patient:_:)``.
    @discardableResult
    func run<Text: PreparedText>(
        _ text: Text.Type, _ bindings: PostgresBindings, confirmed: Bool = true, patient: Bool = false
    ) async throws -> [PostgresRow] {
        let logger = self.logger
        return try await self.call(patient: patient) { client in
            try await client.withConnection { connection in
                let rows = try await connection.run(Text.self, bindings, logger: logger)
                if confirmed { try await connection.confirmCommitted(logger: logger) }
                return rows
            }
        }
    }
}

/// `SELECT 1`, the statement after a single-statement write (``PostgresConnection/confirmCommitted(logger:)``).
enum CommitConfirmation: PreparedText {
    static let sql = "SELECT 1"
}

extension PostgresConnection {
    /// Returns once the statement just run outside a transaction block has committed,
    /// by running one more statement on the connection; throws if it did not.
    ///
    /// Such a statement commits when PostgreSQL processes the `Sync` that follows its
    /// `Execute`, after it has queued the statement's `CommandComplete`; postgres-nio
    /// returns the statement's result at `CommandComplete`, without waiting for the
    /// `ReadyForQuery` that follows the commit. A backend that stops in between (an
    /// immediate shutdown, a crash of another backend, `pg_terminate_backend`) flushes its
    /// queued output with its farewell, so the caller would see success for a write that
    /// was never committed, and acknowledge an event that is gone after the restart. The
    /// next statement on the connection is sent only after that `ReadyForQuery`: if the
    /// commit failed or the connection is gone, it fails. (Inside `withTransaction`, the
    /// `COMMIT` statement itself commits before answering.)
    func confirmCommitted(logger: Logger) async throws {
        try await self.run(CommitConfirmation.self, PostgresBindings(), logger: logger)
    }

    /// Runs a prepared statement with `bindings` on this connection (in a transaction).
    @discardableResult
    func run<Text: PreparedText>(_ text: Text.Type, _ bindings: PostgresBindings, logger: Logger) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await self.execute(Prepared<Text>(bindings: bindings), logger: logger) { rows.append(row) }
        return rows
    }
}

extension PostgresBindings {
    /// Appends `value` (NULL for nil) and returns the bindings, for building them in one
    /// expression: `PostgresBindings().with(a).with(b)`.
    func with<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value?) throws -> PostgresBindings {
        var bindings = self
        try bindings.append(value)
        return bindings
    }
}
