package import InletCore
internal import Logging
internal import PostgresNIO

extension PostgresStore {
    /// Fills this empty database with rows from another store (`inlet copy`), all in one
    /// transaction: a failure anywhere leaves the database as it was.
    ///
    /// It locks the tables against writes (readers go on), refuses with
    /// ``PostgresStoreError`` when users, employees, events, deliveries or audit rows are
    /// already there, lets `body` insert batches through the ``PostgresImporter``, then
    /// moves the id sequences past the largest id copied, so that rows written later get
    /// new ids. Keys are kept as given: deliveries and audit rows keep their events.
    ///
    /// The transaction is not bound by ``Options/operationTimeout``: a large copy takes as
    /// long as it takes.
    ///
    /// ```swift
    /// let counts = try await store.importRows { importer in
    ///     try await importer.insert(events)
    ///     try await importer.insert(deliveries)
    /// }
    /// ```
    package func importRows(_ body: (PostgresImporter) async throws -> Void) async throws -> StoreRows.Counts {
        do {
            return try await self.client.withTransaction(logger: self.logger) { connection in
                let importer = PostgresImporter(connection: connection, logger: self.logger)
                try await importer.lockAndCheckEmpty()
                try await body(importer)
                try await importer.advanceSequences()
                return importer.counts
            }
        } catch let error as PostgresTransactionError {
            throw Self.importFailure(error.closureError ?? error.beginError ?? error.commitError ?? error)
        } catch {
            throw Self.importFailure(error)
        }
    }

    /// PostgreSQL's errors as ``PostgresStoreError``; what `body` threw for its own
    /// reasons (the source's errors, a check) as it is.
    private static func importFailure(_ error: any Error) -> any Error {
        switch error {
        case is PSQLError, is PostgresStoreError, is PostgresTransactionError: PostgresStoreError.wrapping(error)
        default: error
        }
    }
}

/// Inserts batches of rows inside the transaction of ``PostgresStore/importRows(_:)``,
/// counting them. Insert events before their deliveries (a delivery references its event).
package final class PostgresImporter {
    private let connection: PostgresConnection
    private let logger: Logger
    /// Rows inserted so far, per table.
    package private(set) var counts = StoreRows.Counts()

    /// Most rows in one INSERT: PostgreSQL takes at most 65,535 parameters a statement.
    package static let batchLimit = 2_000

    fileprivate init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    private static let tables = ["users", "employees", "events", "deliveries", "audit_log", "delivery_attempts", "event_subjects", "handler_pauses"]

    fileprivate func lockAndCheckEmpty() async throws {
        // No instance writes while the copy runs, and none gets a row in first.
        try await self.connection.query(
            PostgresQuery(unsafeSQL: "LOCK TABLE \(Self.tables.joined(separator: ", ")) IN SHARE ROW EXCLUSIVE MODE"), logger: self.logger
        )
        let probes = Self.tables.map { "(SELECT EXISTS (SELECT 1 FROM \($0)))" }.joined(separator: ", ")
        let rows = try await self.connection.query(PostgresQuery(unsafeSQL: "SELECT \(probes)"), logger: self.logger).collect()
        guard let row = rows.first else { throw PostgresStoreError("PostgreSQL returned no row for the emptiness check", unavailable: false) }
        let (users, employees, events, deliveries, audit, attempts, subjects, pauses) = try row.decode((Bool, Bool, Bool, Bool, Bool, Bool, Bool, Bool).self)
        let filled = zip(Self.tables, [users, employees, events, deliveries, audit, attempts, subjects, pauses]).filter(\.1).map(\.0)
        guard filled.isEmpty else {
            throw PostgresStoreError(
                "the destination database is not empty (it has rows in \(filled.joined(separator: ", "))); inlet copy fills only an empty one",
                unavailable: false
            )
        }
    }

    /// Moves each id sequence past the largest id now in its table (and the lease tokens
    /// past the largest token), so that new rows and claims never reuse one.
    fileprivate func advanceSequences() async throws {
        for (table, column) in [("users", "id"), ("events", "seq"), ("deliveries", "id"), ("audit_log", "id")] {
            try await self.connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), max, true) FROM (SELECT max(\(column)) AS max FROM \(table)) AS m
                        WHERE max IS NOT NULL
                        """
                ),
                logger: self.logger
            )
        }
        try await self.connection.query(
            "SELECT setval('lease_tokens', max, true) FROM (SELECT max(lease_token) AS max FROM deliveries) AS m WHERE max IS NOT NULL",
            logger: self.logger
        )
    }

    package func insert(_ users: [StoreRows.User]) async throws {
        try await self.insert(
            into: "users",
            columns: [
                "id", "auth0_id", "email", "name", "picture", "email_verified", "logins_count", "auth0_logins_count", "last_login_at",
                "last_ip", "created_at", "updated_at",
            ],
            rows: users
        ) { user, binds in
            binds.append(user.id)
            binds.append(user.auth0ID)
            binds.append(user.email)
            binds.append(user.name)
            binds.append(user.picture)
            binds.append(user.emailVerified)
            binds.append(Int64(user.loginsCount))
            binds.append(user.auth0LoginsCount.map(Int64.init))
            binds.append(user.lastLoginAt)
            binds.append(user.lastIP)
            binds.append(user.createdAt)
            binds.append(user.updatedAt)
        }
        self.counts.users += users.count
    }

    package func insert(_ employees: [StoreRows.Employee]) async throws {
        try await self.insert(
            into: "employees",
            columns: [
                "employee_id", "name", "email", "department", "phone_number", "connecteam_id", "role_code", "employee_id_is_number",
                "auth0_user_id", "auth0_sync_status", "auth0_account_created_at", "auth0_email", "assigned_role", "role_assigned_at",
                "blocked", "last_error", "auth0_create_email", "auth0_create_attempted_at", "version_occurred_at", "version_seq",
                "created_at", "updated_at",
            ],
            rows: employees
        ) { employee, binds in
            binds.append(employee.employeeID)
            binds.append(employee.name)
            binds.append(employee.email)
            binds.append(employee.department)
            binds.append(employee.phoneNumber)
            binds.append(employee.connecteamID)
            binds.append(employee.roleCode)
            binds.append(employee.employeeIDIsNumber)
            binds.append(employee.auth0UserID)
            binds.append(employee.auth0SyncStatus)
            binds.append(employee.auth0AccountCreatedAt)
            binds.append(employee.auth0Email)
            binds.append(employee.assignedRole)
            binds.append(employee.roleAssignedAt)
            binds.append(employee.blocked)
            binds.append(employee.lastError)
            binds.append(employee.auth0CreateEmail)
            binds.append(employee.auth0CreateAttemptedAt)
            binds.append(employee.versionOccurredAt)
            binds.append(employee.versionSeq)
            binds.append(employee.createdAt)
            binds.append(employee.updatedAt)
        }
        self.counts.employees += employees.count
    }

    package func insert(_ events: [StoreRows.Event]) async throws {
        try await self.insert(into: "events", columns: ["seq", "source", "id", "type", "received_at", "payload"], rows: events) { event, binds in
            binds.append(event.seq)
            binds.append(event.source)
            binds.append(event.id)
            binds.append(event.type)
            binds.append(event.receivedAt)
            binds.append(event.payload)
        }
        self.counts.events += events.count
    }

    package func insert(_ deliveries: [StoreRows.Delivery]) async throws {
        try await self.insert(
            into: "deliveries",
            columns: [
                "id", "event_seq", "handler", "state", "attempts", "next_attempt_at", "lease_until", "lease_token", "last_error",
                "dead_reason", "created_at", "updated_at", "error_key",
            ],
            rows: deliveries
        ) { delivery, binds in
            binds.append(delivery.id)
            binds.append(delivery.eventSeq)
            binds.append(delivery.handler)
            binds.append(delivery.state.rawValue)
            binds.append(Int32(clamping: delivery.attempts))
            binds.append(delivery.nextAttemptAt)
            binds.append(delivery.leaseUntil)
            binds.append(delivery.leaseToken)
            binds.append(delivery.lastError)
            binds.append(delivery.deadReason)
            binds.append(delivery.createdAt)
            binds.append(delivery.updatedAt)
            binds.append(delivery.errorKey)
        }
        self.counts.deliveries += deliveries.count
    }

    package func insert(_ rows: [StoreRows.Audit]) async throws {
        try await self.insert(
            into: "audit_log", columns: ["id", "at", "event_seq", "event_id", "event_type", "handler", "outcome", "detail"], rows: rows
        ) { row, binds in
            binds.append(row.id)
            binds.append(row.at)
            binds.append(row.eventSeq)
            binds.append(row.eventID)
            binds.append(row.eventType)
            binds.append(row.handler)
            binds.append(row.outcome)
            binds.append(row.detail)
        }
        self.counts.auditRows += rows.count
    }

    /// Sets the stored headers of events inserted before.
    package func insert(_ rows: [StoreRows.EventHeaders]) async throws {
        for start in stride(from: 0, to: rows.count, by: Self.batchLimit) {
            let batch = rows[start..<min(start + Self.batchLimit, rows.count)]
            let seqs = batch.map(\.eventSeq)
            let headers = batch.map(\.headers)
            try await self.connection.query(
                "UPDATE events e SET headers = h.headers FROM unnest(\(seqs)::bigint[], \(headers)::text[]) AS h(seq, headers) WHERE e.seq = h.seq",
                logger: self.logger
            )
        }
        self.counts.eventHeaders += rows.count
    }

    package func insert(_ rows: [StoreRows.Subject]) async throws {
        try await self.insert(into: "event_subjects", columns: ["subject", "event_seq"], rows: rows) { row, binds in
            binds.append(row.subject)
            binds.append(row.eventSeq)
        }
        self.counts.subjects += rows.count
    }

    package func insert(_ rows: [StoreRows.Attempt]) async throws {
        try await self.insert(
            into: "delivery_attempts",
            columns: ["event_seq", "delivery_id", "attempt", "instance", "started_at", "finished_at", "outcome", "error", "next_attempt_at"],
            rows: rows
        ) { row, binds in
            binds.append(row.eventSeq)
            binds.append(row.record.deliveryID)
            binds.append(Int32(clamping: row.record.attempt))
            binds.append(row.record.instance)
            binds.append(row.record.startedAt.millisecondsSinceEpoch)
            binds.append(row.record.finishedAt.millisecondsSinceEpoch)
            binds.append(row.record.outcome)
            binds.append(row.record.error)
            binds.append(row.record.nextAttemptAt?.millisecondsSinceEpoch)
        }
        self.counts.attempts += rows.count
    }

    package func insert(_ rows: [StoreRows.Pause]) async throws {
        try await self.insert(into: "handler_pauses", columns: ["handler", "paused_at"], rows: rows) { row, binds in
            binds.append(row.handler)
            binds.append(row.pausedAt)
        }
        self.counts.pauses += rows.count
    }

    /// One multi-row INSERT per ``batchLimit`` rows, every value a parameter.
    private func insert<Row>(
        into table: String, columns: [String], rows: [Row], bind: (Row, inout PostgresBindings) -> Void
    ) async throws {
        var start = rows.startIndex
        while start < rows.endIndex {
            let end = min(start + Self.batchLimit, rows.endIndex)
            var binds = PostgresBindings(capacity: (end - start) * columns.count)
            var tuples: [String] = []
            tuples.reserveCapacity(end - start)
            for row in rows[start..<end] {
                let first = binds.count + 1
                bind(row, &binds)
                precondition(binds.count - first + 1 == columns.count, "one parameter per column of \(table)")
                tuples.append("(" + (first..<(first + columns.count)).map { "$\($0)" }.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES " + tuples.joined(separator: ", ")
            try await self.connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger)
            start = end
        }
    }
}
