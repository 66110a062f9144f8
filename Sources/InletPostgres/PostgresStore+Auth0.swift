package import InletCore
internal import Logging
internal import PostgresNIO

/// The Auth0 log stream's events with their user changes, and the reconciler's snapshots,
/// in PostgreSQL: each batch one transaction, its users' rows locked while
/// ``UserAgreement`` decides their values (another instance's batch for the same users waits).
extension PostgresStore: Auth0UserSync {
    /// Every event in one statement (`unnest`), the duplicates' seqs in a second, the
    /// users of the new entries locked and read in a third, and written back in one
    /// `UPDATE` and one `INSERT` (`jsonb_to_recordset`): five round trips for a batch of
    /// any size, where one statement per entry made a batch of 100 cost 100 round trips.
    package func appendAuth0Logs(_ events: [NewEvent], changes: [Auth0UserChange?]) async throws -> [AppendResult] {
        let now = self.injectedNow
        let text = self.nowText
        let results = try await self.transaction { connection, logger in
            let results = try await Self.insertEvents(connection, logger: logger, events, now: now, text: text)
            try await Self.applyChanges(connection, logger: logger, Self.changesToApply(changes, results: results), now: text)
            return results
        }
        self.announce(results.flatMap(\.handlers))
        return results
    }

    /// $1 sources, $2 ids, $3 types, $4 payloads (one element per event), $5 now as text,
    /// $6 now in ms (NULL: the database's), $7 and $8 the deliveries as (event ordinal,
    /// handler) pairs. A key repeated within the batch is inserted once.
    enum InsertEventBatch: PreparedText {
        static let sql = """
            WITH input AS (
                SELECT DISTINCT ON (source, id) source, id, type, payload, n
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(source, id, type, payload, n)
                ORDER BY source, id, n
            ), e AS (
                INSERT INTO events (source, id, type, received_at, payload)
                SELECT source, id, type, $5, payload FROM input ORDER BY n
                ON CONFLICT (source, id) DO NOTHING RETURNING seq, source, id
            ), d AS (
                INSERT INTO deliveries (event_seq, handler, next_attempt_at, created_at, updated_at)
                SELECT e.seq, p.handler, coalesce($6::bigint, inlet_now_ms()), $5, $5
                FROM e JOIN input i ON i.source = e.source AND i.id = e.id
                JOIN unnest($7::bigint[], $8::text[]) AS p(n, handler) ON p.n = i.n
            )
            SELECT seq, source, id FROM e
            """
    }

    /// The seqs of stored `(source, id)` keys: $1 sources, $2 ids.
    enum ExistingSeqs: PreparedText {
        static let sql = """
            SELECT e.seq, e.source, e.id FROM events e JOIN unnest($1::text[], $2::text[]) AS k(source, id)
            ON e.source = k.source AND e.id = k.id
            """
    }

    static func insertEvents(
        _ connection: PostgresConnection, logger: Logger, _ events: [NewEvent], now: Int64?, text: String
    ) async throws -> [AppendResult] {
        guard !events.isEmpty else { return [] }
        var ordinals: [Int64] = []
        var handlers: [String] = []
        for (index, event) in events.enumerated() {
            for handler in event.handlers {
                ordinals.append(Int64(index + 1))
                handlers.append(handler)
            }
        }
        let inserted = try await connection.run(
            InsertEventBatch.self,
            PostgresBindings().with(events.map(\.source.rawValue)).with(events.map(\.id)).with(events.map(\.type.rawValue))
                .with(events.map(\.payload)).with(text).with(now).with(ordinals).with(handlers),
            logger: logger
        )
        var fresh: [String: Int64] = [:]
        for row in inserted {
            let (seq, source, id) = try row.decode((Int64, String, String).self)
            fresh[source + "\u{0}" + id] = seq
        }
        var results: [AppendResult?] = []
        var missing: [Int] = []
        for (index, event) in events.enumerated() {
            // The first event of a new key is the one inserted; a repeat of it in the batch is a duplicate.
            if let seq = fresh.removeValue(forKey: event.source.rawValue + "\u{0}" + event.id) {
                results.append(AppendResult(seq: seq, eventID: event.id, duplicate: false, handlers: event.handlers))
            } else {
                results.append(nil)
                missing.append(index)
            }
        }
        if !missing.isEmpty {
            let rows = try await connection.run(
                ExistingSeqs.self,
                PostgresBindings().with(missing.map { events[$0].source.rawValue }).with(missing.map { events[$0].id }), logger: logger
            )
            var stored: [String: Int64] = [:]
            for row in rows {
                let (seq, source, id) = try row.decode((Int64, String, String).self)
                stored[source + "\u{0}" + id] = seq
            }
            for index in missing {
                let event = events[index]
                guard let seq = stored[event.source.rawValue + "\u{0}" + event.id] else {
                    throw PostgresStoreError("the event \(event.id) was neither inserted nor found", unavailable: true)
                }
                results[index] = AppendResult(seq: seq, eventID: event.id, duplicate: true)
            }
        }
        return results.compactMap { $0 }
    }

    /// $1 the Auth0 ids: their rows, locked (in id order, as every batch locks them).
    enum LockUsers: PreparedText {
        static let sql = """
            SELECT id, auth0_id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_login_at, last_ip,
                auth0_applied_at, deleted_at
            FROM users WHERE auth0_id = ANY($1::text[]) ORDER BY id FOR UPDATE
            """
    }

    /// $1 the rows as a JSON array, $2 now as text.
    enum UpdateUsers: PreparedText {
        static let sql = """
            UPDATE users u SET email = v.email, name = v.name, picture = v.picture, email_verified = v.email_verified,
                logins_count = v.logins_count, auth0_logins_count = v.auth0_logins_count, last_login_at = v.last_login_at,
                last_ip = v.last_ip, auth0_applied_at = v.applied_at, deleted_at = v.deleted_at, updated_at = $2
            FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, email text, name text, picture text, email_verified boolean,
                logins_count bigint, auth0_logins_count bigint, last_login_at text, last_ip text, applied_at text, deleted_at text)
            WHERE u.id = v.id
            """
    }

    /// $1 the rows as a JSON array, $2 now as text; returns the Auth0 ids inserted (a row
    /// another transaction inserted meanwhile is skipped).
    enum InsertUsers: PreparedText {
        static let sql = """
            INSERT INTO users (auth0_id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_login_at, last_ip,
                auth0_applied_at, deleted_at, created_at, updated_at)
            SELECT v.auth0_id, v.email, v.name, v.picture, v.email_verified, v.logins_count, v.auth0_logins_count, v.last_login_at,
                v.last_ip, v.applied_at, v.deleted_at, $2, $2
            FROM jsonb_to_recordset($1::jsonb) AS v(auth0_id text, email text, name text, picture text, email_verified boolean,
                logins_count bigint, auth0_logins_count bigint, last_login_at text, last_ip text, applied_at text, deleted_at text)
            ON CONFLICT (auth0_id) DO NOTHING RETURNING auth0_id
            """
    }

    /// Applies `changes` (in order) to their users' rows: all locked and read at once, each
    /// row's changes applied in Swift, the changed rows written back in two statements.
    static func applyChanges(_ connection: PostgresConnection, logger: Logger, _ changes: [Auth0UserChange], now: String) async throws {
        guard !changes.isEmpty else { return }
        // `changes` come sorted by user: one group per user, in order.
        var groups: [(id: String, changes: [Auth0UserChange])] = []
        for change in changes {
            if groups.last?.id == change.auth0ID { groups[groups.count - 1].changes.append(change) } else { groups.append((change.auth0ID, [change])) }
        }
        let ids = groups.map(\.id)
        var stored: [String: StoredUser] = [:]
        for row in try await connection.run(LockUsers.self, PostgresBindings().with(ids), logger: logger) {
            let user = try Self.storedUser(row)
            stored[user.auth0ID] = user
        }
        var updates: [StoredUser] = []
        var inserts: [StoredUser] = []
        for (id, mine) in groups {
            let original = stored[id]
            var current = original
            for change in mine {
                if let next = UserAgreement.applying(change, to: current) { current = next }
            }
            guard let current, current != original else { continue }
            if current.id == nil { inserts.append(current) } else { updates.append(current) }
        }
        if !updates.isEmpty {
            try await connection.run(UpdateUsers.self, PostgresBindings().with(Self.json(updates)).with(now), logger: logger)
        }
        guard !inserts.isEmpty else { return }
        let inserted = try await connection.run(InsertUsers.self, PostgresBindings().with(Self.json(inserts)).with(now), logger: logger)
        let insertedIDs = Set(try inserted.map { try $0.decode(String.self) })
        // A login inserted one of them meanwhile (it committed after the lock): apply its changes to that row.
        for user in inserts where !insertedIDs.contains(user.auth0ID) {
            let mine = groups.first { $0.id == user.auth0ID }?.changes ?? []
            try await Self.apply(connection, logger: logger, auth0ID: user.auth0ID, now: now) { row in
                var current = row
                for change in mine {
                    if let next = UserAgreement.applying(change, to: current) { current = next }
                }
                return current == row ? nil : current
            }
        }
    }

    /// Rows as the JSON array `jsonb_to_recordset` reads.
    static func json(_ users: [StoredUser]) -> String {
        JSONValue.array(users.map { user in
            .object([
                ("id", user.id.map { .int(Int($0)) } ?? .null), ("auth0_id", .string(user.auth0ID)), ("email", .string(user.email)),
                ("name", .string(user.name)), ("picture", .string(user.picture)), ("email_verified", .bool(user.emailVerified)),
                ("logins_count", .int(user.loginsCount)), ("auth0_logins_count", user.auth0LoginsCount.map { .int($0) } ?? .null),
                ("last_login_at", .string(user.lastLoginAt)), ("last_ip", .string(user.lastIP)), ("applied_at", .string(user.appliedAt)),
                ("deleted_at", .string(user.deletedAt)),
            ])
        }).serializedString
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
            SELECT id, auth0_id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_login_at, last_ip,
                auth0_applied_at, deleted_at
            FROM users WHERE auth0_id = \(auth0ID) FOR UPDATE
            """,
            logger: logger
        ).collect()
        return try rows.first.map(Self.storedUser)
    }

    /// A row of `id, auth0_id, email, name, picture, email_verified, logins_count,
    /// auth0_logins_count, last_login_at, last_ip, auth0_applied_at, deleted_at`.
    static func storedUser(_ row: PostgresRow) throws -> StoredUser {
        let (id, auth0ID, email, name, picture, verified, logins, auth0Logins, lastLogin, lastIP, applied, deleted) = try row.decode(
            (Int64, String, String?, String?, String?, Bool, Int64, Int64?, String?, String?, String?, String?).self
        )
        return StoredUser(
            id: id, auth0ID: auth0ID, email: email, name: name, picture: picture, emailVerified: verified, loginsCount: Int(logins),
            auth0LoginsCount: auth0Logins.map(Int.init), lastLoginAt: lastLogin, lastIP: lastIP, appliedAt: applied, deletedAt: deleted
        )
    }
}
