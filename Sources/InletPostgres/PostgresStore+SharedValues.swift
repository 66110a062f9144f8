public import InletCore
internal import PostgresNIO

/// Values every instance shares, as rows of `store_meta` (keys `shared:…`), each updated
/// under its row lock.
extension PostgresStore: SharedValueStore {
    /// The value and the database's clock, the row locked until the transaction ends.
    enum LockSharedValue: PreparedText {
        /// $1 the key, $2 now (NULL: the database's clock).
        static let sql = "SELECT value, coalesce($2::bigint, inlet_now_ms()) FROM store_meta WHERE key = $1 FOR UPDATE"
    }

    enum WriteSharedValue: PreparedText {
        static let sql = "UPDATE store_meta SET value = $2 WHERE key = $1"
    }

    /// Locks the row of `key` (made empty the first time), runs `body` on its value and
    /// the database's clock, writes the result back, and commits: callers on every
    /// instance take turns. An empty value stands for none.
    public func updateSharedValue<T: Sendable>(
        _ key: String, _ body: @escaping @Sendable (inout String?, Int64) throws -> T
    ) async throws -> T {
        let key = "shared:" + key
        let now = self.injectedNow
        return try await self.transaction { connection, logger in
            var rows = try await connection.run(LockSharedValue.self, PostgresBindings().with(key).with(now), logger: logger)
            if rows.isEmpty {
                try await connection.query("INSERT INTO store_meta (key, value) VALUES (\(key), '') ON CONFLICT (key) DO NOTHING", logger: logger)
                rows = try await connection.run(LockSharedValue.self, PostgresBindings().with(key).with(now), logger: logger)
            }
            guard let row = rows.first else { throw PostgresStoreError("the shared value \(key) could not be created", unavailable: true) }
            let (stored, databaseNow) = try row.decode((String, Int64).self)
            var value: String? = stored.isEmpty ? nil : stored
            let result = try body(&value, databaseNow)
            if (value ?? "") != stored {
                try await connection.run(WriteSharedValue.self, PostgresBindings().with(key).with(value ?? ""), logger: logger)
            }
            return result
        }
    }
}
