package import InletCore

/// The Auth0 log stream's events with their user changes, and the reconciler's snapshots,
/// in SQLite: each batch one write transaction (``UserAgreement`` decides every value).
extension SQLiteStore: Auth0UserSync {
    package func appendAuth0Logs(_ events: [NewEvent], changes: [Auth0UserChange?]) async throws -> [AppendResult] {
        let now = self.clock.now()
        let results = try await self.write { connection in
            let results = try events.map { try Self.insertEvent(connection, $0, now: now) }
            for change in Self.changesToApply(changes, results: results) {
                let stored = try Self.storedUser(connection, auth0ID: change.auth0ID)
                if let next = UserAgreement.applying(change, to: stored) { try Self.write(connection, next, now: now) }
            }
            return results
        }
        self.adjustDepth(by: zip(events, results).reduce(0) { $0 + ($1.1.duplicate ? 0 : $1.0.handlers.count) })
        return results
    }

    package func reconcileUsers(_ users: [Auth0UserSnapshot], cursor: String) async throws -> ReconcileCounts {
        let now = self.clock.now()
        return try await self.write { connection in
            var counts = ReconcileCounts()
            for user in users {
                let stored = try Self.storedUser(connection, auth0ID: user.auth0ID)
                guard let next = UserAgreement.applying(user, to: stored) else {
                    counts.unchanged += 1
                    continue
                }
                try Self.write(connection, next, now: now)
                if stored == nil { counts.created += 1 } else { counts.updated += 1 }
            }
            try connection.execute(
                "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [.text(Self.reconcileCursorKey), .text(cursor)]
            )
            return counts
        }
    }

    package func reconcileCursor() async throws -> String? {
        try await self.read { connection in
            try connection.row("SELECT value FROM store_meta WHERE key = ?", [.text(Self.reconcileCursorKey)])?.string("value")
        }
    }

    static func storedUser(_ connection: SQLiteConnection, auth0ID: String) throws -> StoredUser? {
        guard
            let row = try connection.row(
                """
                SELECT id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_login_at, last_ip,
                    auth0_applied_at, deleted_at
                FROM users WHERE auth0_id = ?
                """,
                [.text(auth0ID)]
            )
        else { return nil }
        return StoredUser(
            id: try row.int64("id"), auth0ID: auth0ID, email: try row.optionalString("email"), name: try row.optionalString("name"),
            picture: try row.optionalString("picture"), emailVerified: try row.bool("email_verified"), loginsCount: try row.int("logins_count"),
            auth0LoginsCount: try row.optionalInt("auth0_logins_count"), lastLoginAt: try row.optionalString("last_login_at"),
            lastIP: try row.optionalString("last_ip"), appliedAt: try row.optionalString("auth0_applied_at"),
            deletedAt: try row.optionalString("deleted_at")
        )
    }

    /// Inserts `user` (no id yet) or updates its row.
    static func write(_ connection: SQLiteConnection, _ user: StoredUser, now: Timestamp) throws {
        let values: [SQLiteValue] = [
            .text(user.auth0ID), .text(user.email), .text(user.name), .text(user.picture), .bool(user.emailVerified),
            .integer(Int64(user.loginsCount)), .integer(user.auth0LoginsCount), .text(user.lastLoginAt), .text(user.lastIP),
            .text(user.appliedAt), .text(user.deletedAt), .text(now.description),
        ]
        if let id = user.id {
            try connection.execute(
                """
                UPDATE users SET email = ?2, name = ?3, picture = ?4, email_verified = ?5, logins_count = ?6, auth0_logins_count = ?7,
                    last_login_at = ?8, last_ip = ?9, auth0_applied_at = ?10, deleted_at = ?11, updated_at = ?12
                WHERE id = ?13 AND auth0_id = ?1
                """,
                values + [.integer(id)]
            )
        } else {
            try connection.execute(
                """
                INSERT INTO users (auth0_id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_login_at, last_ip,
                    auth0_applied_at, deleted_at, created_at, updated_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
                """,
                values
            )
        }
    }
}
