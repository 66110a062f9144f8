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
    /// Runs a prepared statement with `bindings` on the pool; returns its rows.
    @discardableResult
    func run<Text: PreparedText>(_ text: Text.Type, _ bindings: PostgresBindings) async throws -> [PostgresRow] {
        let logger = self.logger
        return try await self.call { client in
            var rows: [PostgresRow] = []
            for try await row in try await client.execute(Prepared<Text>(bindings: bindings), logger: logger) { rows.append(row) }
            return rows
        }
    }
}

extension PostgresConnection {
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
