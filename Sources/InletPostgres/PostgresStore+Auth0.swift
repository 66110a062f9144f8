package import InletCore
internal import Logging
internal import PostgresNIO

/// The Auth0 log stream's events with their user changes, and the reconciler's snapshots,
/// in PostgreSQL: each batch one transaction, each user row locked while
/// ``UserAgreement`` decides its values (another instance's batch for the same user waits).
extension PostgresStore: Auth0UserSync {
    package func appendAuth0Logs(_ events: [NewEvent], changes: [Auth0UserChange?]) async throws -> [AppendResult] {
        let now = self.injectedNow
        let text = self.nowText
        let results = try await self.transaction { connection, logger in
            var results: [AppendResult] = []
            for event in events {
                if let row = try await connection.run(InsertEvent.self, InsertEvent.bindings(event, now: now, text: text), logger: logger).first {
                    results.append(AppendResult(seq: try row.decode(Int64.self), eventID: event.id, duplicate: false, handlers: event.handlers))
                } else {
                    results.append(try await self.duplicate(event, rows: connection.query(Self.existingSeq(event), logger: logger).collect()))
                }
            }
            for change in Self.changesToApply(changes, results: results) {
                try await Self.apply(connection, logger: logger, auth0ID: change.auth0ID, now: text) { UserAgreement.applying(change, to: $0) }
            }
            return results
        }
        self.announce(results.flatMap(\.handlers))
        return results
    }

    package func reconcileUsers(_ users: [Auth0UserSnapshot], cursor: String) async throws -> ReconcileCounts {
        let text = self.nowText
        let key = Self.reconcileCursorKey
        return try await self.transaction { connection, logger in
            var counts = ReconcileCounts()
            for user in users {
                let outcome = try await Self.apply(connection, logger: logger, auth0ID: user.auth0ID, now: text) { UserAgreement.applying(user, to: $0) }
                switch outcome {
                case .created: counts.created += 1
                case .updated: counts.updated += 1
                case .unchanged: counts.unchanged += 1
                }
            }
            try await connection.query(
                "INSERT INTO store_meta (key, value) VALUES (\(key), \(cursor)) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                logger: logger
            )
            return counts
        }
    }

    package func reconcileCursor() async throws -> String? {
        try await self.read("SELECT value FROM store_meta WHERE key = \(Self.reconcileCursorKey)").first?.decode(String.self)
    }

    enum UserOutcome {
        case created, updated, unchanged
    }

    /// Locks the user's row (if any), lets `next` decide its values and writes them. A row
    /// another transaction inserted meanwhile (a login) is locked and decided again.
    @discardableResult
    static func apply(
        _ connection: PostgresConnection, logger: Logger, auth0ID: String, now: String, _ next: (StoredUser?) -> StoredUser?
    ) async throws -> UserOutcome {
        for _ in 0..<2 {
            let stored = try await Self.storedUser(connection, logger: logger, auth0ID: auth0ID)
            guard let user = next(stored) else { return .unchanged }
            if let id = user.id {
                try await connection.query(
                    """
                    UPDATE users SET email = \(user.email), name = \(user.name), picture = \(user.picture), email_verified = \(user.emailVerified),
                        logins_count = \(Int64(user.loginsCount)), auth0_logins_count = \(user.auth0LoginsCount.map(Int64.init)),
                        last_login_at = \(user.lastLoginAt), last_ip = \(user.lastIP), auth0_applied_at = \(user.appliedAt),
                        deleted_at = \(user.deletedAt), updated_at = \(now)
                    WHERE id = \(id)
                    """,
                    logger: logger
                )
                return .updated
            }
            let inserted = try await connection.query(
                """
                INSERT INTO users (auth0_id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_login_at, last_ip,
                    auth0_applied_at, deleted_at, created_at, updated_at)
                VALUES (\(user.auth0ID), \(user.email), \(user.name), \(user.picture), \(user.emailVerified), \(Int64(user.loginsCount)),
                    \(user.auth0LoginsCount.map(Int64.init)), \(user.lastLoginAt), \(user.lastIP), \(user.appliedAt), \(user.deletedAt), \(now), \(now))
                ON CONFLICT (auth0_id) DO NOTHING RETURNING id
                """,
                logger: logger
            ).collect()
            if !inserted.isEmpty { return .created }
        }
        throw PostgresStoreError("the user row of \(auth0ID) was neither inserted nor found", unavailable: true)
    }

    static func storedUser(_ connection: PostgresConnection, logger: Logger, auth0ID: String) async throws -> StoredUser? {
        let rows = try await connection.query(
            """
            SELECT id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_login_at, last_ip, auth0_applied_at, deleted_at
            FROM users WHERE auth0_id = \(auth0ID) FOR UPDATE
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let (id, email, name, picture, verified, logins, auth0Logins, lastLogin, lastIP, applied, deleted) = try row.decode(
            (Int64, String?, String?, String?, Bool, Int64, Int64?, String?, String?, String?, String?).self
        )
        return StoredUser(
            id: id, auth0ID: auth0ID, email: email, name: name, picture: picture, emailVerified: verified, loginsCount: Int(logins),
            auth0LoginsCount: auth0Logins.map(Int.init), lastLoginAt: lastLogin, lastIP: lastIP, appliedAt: applied, deletedAt: deleted
        )
    }
}
