public import InletCore

/// Console sessions in SQLite (`console_sessions`).
extension SQLiteStore: ConsoleSessionStore {
    package func createConsoleSession(_ session: ConsoleSession) async throws {
        try await self.write { connection in
            try connection.execute(
                "DELETE FROM console_sessions WHERE expires_at <= ? OR token_fingerprint <> ?",
                [.integer(session.createdAt.millisecondsSinceEpoch), .text(session.tokenFingerprint)]
            )
            try connection.execute(
                "INSERT INTO console_sessions (id_hash, token_fingerprint, created_at, expires_at) VALUES (?, ?, ?, ?)",
                [
                    .text(session.idHash), .text(session.tokenFingerprint), .integer(session.createdAt.millisecondsSinceEpoch),
                    .integer(session.expiresAt.millisecondsSinceEpoch),
                ]
            )
        }
    }

    package func consoleSession(idHash: String) async throws -> ConsoleSession? {
        try await self.read { connection in
            guard
                let row = try connection.row(
                    "SELECT id_hash, token_fingerprint, created_at, expires_at FROM console_sessions WHERE id_hash = ?", [.text(idHash)]
                )
            else { return nil }
            return ConsoleSession(
                idHash: try row.string("id_hash"), tokenFingerprint: try row.string("token_fingerprint"),
                createdAt: Timestamp(millisecondsSinceEpoch: try row.int64("created_at")),
                expiresAt: Timestamp(millisecondsSinceEpoch: try row.int64("expires_at"))
            )
        }
    }

    package func deleteConsoleSession(idHash: String) async throws {
        try await self.write { connection in
            try connection.execute("DELETE FROM console_sessions WHERE id_hash = ?", [.text(idHash)])
        }
    }
}
