public import InletCore
internal import PostgresNIO

/// Console sessions in PostgreSQL (`console_sessions`), shared by every instance on the database.
extension PostgresStore: ConsoleSessionStore {
    package func createConsoleSession(_ session: ConsoleSession) async throws {
        let created = session.createdAt.millisecondsSinceEpoch
        let expires = session.expiresAt.millisecondsSinceEpoch
        try await self.rows(
            """
            WITH gone AS (DELETE FROM console_sessions WHERE expires_at <= \(created) OR token_fingerprint <> \(session.tokenFingerprint))
            INSERT INTO console_sessions (id_hash, token_fingerprint, created_at, expires_at)
            VALUES (\(session.idHash), \(session.tokenFingerprint), \(created), \(expires))
            """
        )
    }

    package func consoleSession(idHash: String) async throws -> ConsoleSession? {
        let rows = try await self.read(
            "SELECT id_hash, token_fingerprint, created_at, expires_at FROM console_sessions WHERE id_hash = \(idHash)"
        )
        guard let row = rows.first else { return nil }
        let (hash, fingerprint, created, expires) = try row.decode((String, String, Int64, Int64).self)
        return ConsoleSession(
            idHash: hash, tokenFingerprint: fingerprint, createdAt: Timestamp(millisecondsSinceEpoch: created),
            expiresAt: Timestamp(millisecondsSinceEpoch: expires)
        )
    }

    package func deleteConsoleSession(idHash: String) async throws {
        try await self.rows("DELETE FROM console_sessions WHERE id_hash = \(idHash)")
    }
}
