public import InletCore

/// Every row of a SQLite database as of one moment, read in batches in key order: the
/// read side of `inlet copy`.
///
/// It holds one read transaction on the store's reader connection, so the batches agree
/// with each other however long the copy takes, while a server may go on writing the file
/// (what it writes afterwards is not in the snapshot). Get one from
/// ``SQLiteStore/withSnapshot(_:)`` on a store opened for it
/// (``SQLiteStore/openReadOnly(path:clock:)``).
///
/// ```swift
/// let store = try await SQLiteStore.openReadOnly(path: path)
/// try await store.withSnapshot { snapshot in
///     var after: Int64 = 0
///     while case let events = try await snapshot.events(after: after, limit: 1000), let last = events.last {
///         after = last.seq
///     }
/// }
/// ```
package struct SQLiteSnapshot: Sendable {
    let store: SQLiteStore

    /// Users with an id above `after`, by id.
    package func users(after: Int64, limit: Int) async throws -> [StoreRows.User] {
        try await self.store.read { connection in
            try connection.query(
                """
                SELECT id, auth0_id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_login_at, last_ip,
                    created_at, updated_at, auth0_applied_at, deleted_at
                FROM users WHERE id > ? ORDER BY id LIMIT ?
                """,
                [.integer(after), .integer(limit)]
            ).map { row throws(SQLiteError) in
                StoreRows.User(
                    id: try row.int64("id"), auth0ID: try row.string("auth0_id"), email: try row.optionalString("email"),
                    name: try row.optionalString("name"), picture: try row.optionalString("picture"),
                    emailVerified: try row.bool("email_verified"), loginsCount: try row.int("logins_count"),
                    auth0LoginsCount: try row.optionalInt("auth0_logins_count"), lastLoginAt: try row.optionalString("last_login_at"),
                    lastIP: try row.optionalString("last_ip"), createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at"),
                    auth0AppliedAt: try row.optionalString("auth0_applied_at"), deletedAt: try row.optionalString("deleted_at")
                )
            }
        }
    }

    /// Employees whose id sorts after `after` (by SQLite's binary collation), in that order.
    package func employees(after: String, limit: Int) async throws -> [StoreRows.Employee] {
        try await self.store.read { connection in
            try connection.query(
                """
                SELECT employee_id, name, email, department, phone_number, connecteam_id, role_code, employee_id_is_number,
                    auth0_user_id, auth0_sync_status, auth0_account_created_at, auth0_email, assigned_role, role_assigned_at, blocked,
                    last_error, auth0_create_email, auth0_create_attempted_at, version_occurred_at, version_seq, created_at, updated_at
                FROM employees WHERE employee_id > ? ORDER BY employee_id LIMIT ?
                """,
                [.text(after), .integer(limit)]
            ).map { row throws(SQLiteError) in
                StoreRows.Employee(
                    employeeID: try row.string("employee_id"), name: try row.string("name"), email: try row.string("email"),
                    department: try row.string("department"), phoneNumber: try row.optionalString("phone_number"),
                    connecteamID: try row.optionalString("connecteam_id"), roleCode: try row.optionalString("role_code"),
                    employeeIDIsNumber: try row.bool("employee_id_is_number"), auth0UserID: try row.optionalString("auth0_user_id"),
                    auth0SyncStatus: try row.string("auth0_sync_status"),
                    auth0AccountCreatedAt: try row.optionalString("auth0_account_created_at"),
                    auth0Email: try row.optionalString("auth0_email"), assignedRole: try row.optionalString("assigned_role"),
                    roleAssignedAt: try row.optionalString("role_assigned_at"), blocked: try row.bool("blocked"),
                    lastError: try row.optionalString("last_error"), auth0CreateEmail: try row.optionalString("auth0_create_email"),
                    auth0CreateAttemptedAt: try row.optionalString("auth0_create_attempted_at"),
                    versionOccurredAt: try row.optionalInt64("version_occurred_at"), versionSeq: try row.optionalInt64("version_seq"),
                    createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at")
                )
            }
        }
    }

    /// Events with a seq above `after`, by seq.
    package func events(after: Int64, limit: Int) async throws -> [StoreRows.Event] {
        try await self.store.read { connection in
            try connection.query(
                "SELECT seq, source, id, type, received_at, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                [.integer(after), .integer(limit)]
            ).map { row throws(SQLiteError) in
                StoreRows.Event(
                    seq: try row.int64("seq"), source: try row.string("source"), id: try row.string("id"), type: try row.string("type"),
                    receivedAt: try row.string("received_at"), payload: try row.string("payload")
                )
            }
        }
    }

    /// Deliveries with an id above `after`, by id.
    package func deliveries(after: Int64, limit: Int) async throws -> [StoreRows.Delivery] {
        try await self.store.read { connection in
            try connection.query(
                """
                SELECT id, event_seq, handler, state, attempts, next_attempt_at, lease_until, lease_token, last_error, dead_reason,
                    created_at, updated_at, error_key
                FROM deliveries WHERE id > ? ORDER BY id LIMIT ?
                """,
                [.integer(after), .integer(limit)]
            ).map { row throws(SQLiteError) in
                StoreRows.Delivery(
                    id: try row.int64("id"), eventSeq: try row.int64("event_seq"), handler: try row.string("handler"),
                    state: try row.string("state", as: DeliveryState.self), attempts: try row.int("attempts"),
                    nextAttemptAt: try row.int64("next_attempt_at"), leaseUntil: try row.optionalInt64("lease_until"),
                    leaseToken: try row.optionalInt64("lease_token"), lastError: try row.optionalString("last_error"),
                    deadReason: try row.optionalString("dead_reason"), createdAt: try row.string("created_at"),
                    updatedAt: try row.string("updated_at"), errorKey: try row.optionalString("error_key")
                )
            }
        }
    }

    /// The stored headers of events with a seq above `after` that have some, by seq.
    package func eventHeaders(after: Int64, limit: Int) async throws -> [StoreRows.EventHeaders] {
        try await self.store.read { connection in
            try connection.query(
                "SELECT seq, headers FROM events WHERE seq > ? AND headers IS NOT NULL ORDER BY seq LIMIT ?", [.integer(after), .integer(limit)]
            ).map { row throws(SQLiteError) in StoreRows.EventHeaders(eventSeq: try row.int64("seq"), headers: try row.string("headers")) }
        }
    }

    /// Subjects after `after`, in key order (block, subject, seq).
    package func subjects(after: StoreRows.Subject?, limit: Int) async throws -> [StoreRows.Subject] {
        try await self.store.read { connection in
            try connection.query(
                """
                SELECT subject, event_seq FROM event_subjects WHERE ?1 IS NULL OR (block, subject, event_seq) > (?2 >> 8, ?1, ?2)
                ORDER BY block, subject, event_seq LIMIT ?3
                """,
                [.text(after?.subject), after.map { .integer($0.eventSeq) } ?? .null, .integer(limit)]
            ).map { row throws(SQLiteError) in StoreRows.Subject(subject: try row.string("subject"), eventSeq: try row.int64("event_seq")) }
        }
    }

    /// Attempt rows after `after` in key order (event, delivery, start, attempt).
    package func attempts(after: StoreRows.Attempt?, limit: Int) async throws -> [StoreRows.Attempt] {
        try await self.store.read { connection in
            try connection.query(
                """
                SELECT event_seq, delivery_id, attempt, instance, started_at, finished_at, outcome, error, next_attempt_at
                FROM delivery_attempts
                WHERE ?1 IS NULL OR (event_seq, delivery_id, started_at, attempt) > (?1, ?2, ?3, ?4)
                ORDER BY event_seq, delivery_id, started_at, attempt LIMIT ?5
                """,
                [
                    after.map { .integer($0.eventSeq) } ?? .null, after.map { .integer($0.record.deliveryID) } ?? .null,
                    after.map { .integer($0.record.startedAt.millisecondsSinceEpoch) } ?? .null, .integer(after?.record.attempt),
                    .integer(limit),
                ]
            ).map { row throws(SQLiteError) in
                StoreRows.Attempt(
                    eventSeq: try row.int64("event_seq"),
                    record: AttemptRecord(
                        deliveryID: try row.int64("delivery_id"), attempt: try row.int("attempt"), instance: try row.string("instance"),
                        startedAt: Timestamp(millisecondsSinceEpoch: try row.int64("started_at")),
                        finishedAt: Timestamp(millisecondsSinceEpoch: try row.int64("finished_at")), outcome: try row.string("outcome"),
                        error: try row.optionalString("error"),
                        nextAttemptAt: try row.optionalInt64("next_attempt_at").map(Timestamp.init(millisecondsSinceEpoch:))
                    )
                )
            }
        }
    }

    /// Every paused handler.
    package func pauses() async throws -> [StoreRows.Pause] {
        try await self.store.read { connection in
            try connection.query("SELECT handler, paused_at FROM handler_pauses ORDER BY handler").map { row throws(SQLiteError) in
                StoreRows.Pause(handler: try row.string("handler"), pausedAt: try row.string("paused_at"))
            }
        }
    }

    /// Audit rows with an id above `after`, by id.
    package func auditRows(after: Int64, limit: Int) async throws -> [StoreRows.Audit] {
        try await self.store.read { connection in
            try connection.query(
                "SELECT id, at, event_seq, event_id, event_type, handler, outcome, detail FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
                [.integer(after), .integer(limit)]
            ).map { row throws(SQLiteError) in
                StoreRows.Audit(
                    id: try row.int64("id"), at: try row.string("at"), eventSeq: try row.optionalInt64("event_seq"),
                    eventID: try row.optionalString("event_id"), eventType: try row.optionalString("event_type"),
                    handler: try row.optionalString("handler"), outcome: try row.string("outcome"), detail: try row.optionalString("detail")
                )
            }
        }
    }

    /// Rows in each table, for the copy's report and its check that nothing was missed.
    package func counts() async throws -> StoreRows.Counts {
        try await self.store.read { connection in
            let row = try connection.requiredRow(
                """
                SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM employees) AS employees,
                    (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM deliveries) AS deliveries,
                    (SELECT count(*) FROM audit_log) AS audit_rows, (SELECT count(*) FROM events WHERE headers IS NOT NULL) AS event_headers,
                    (SELECT count(*) FROM event_subjects) AS subjects, (SELECT count(*) FROM delivery_attempts) AS attempts,
                    (SELECT count(*) FROM handler_pauses) AS pauses
                """
            )
            var counts = StoreRows.Counts()
            counts.users = try row.int("users")
            counts.employees = try row.int("employees")
            counts.events = try row.int("events")
            counts.deliveries = try row.int("deliveries")
            counts.auditRows = try row.int("audit_rows")
            counts.eventHeaders = try row.int("event_headers")
            counts.subjects = try row.int("subjects")
            counts.attempts = try row.int("attempts")
            counts.pauses = try row.int("pauses")
            return counts
        }
    }
}

extension SQLiteStore {
    /// Runs `body` with a ``SQLiteSnapshot`` of the database: one read transaction on the
    /// reader connection, held until `body` returns. Meant for a store opened for this
    /// alone (its reader serves nothing else meanwhile).
    package func withSnapshot<T>(_ body: (SQLiteSnapshot) async throws -> T) async throws -> T {
        try await self.read { connection in try connection.execute("BEGIN") }
        do {
            // A deferred transaction takes its snapshot at its first read.
            try await self.read { connection in _ = try connection.requiredRow("SELECT count(*) AS count FROM events") }
            let value = try await body(SQLiteSnapshot(store: self))
            try await self.read { connection in try connection.execute("COMMIT") }
            return value
        } catch {
            try? await self.read { connection in try connection.execute("ROLLBACK") }
            throw error
        }
    }
}
