public import InletCore
internal import PostgresNIO

/// What the operator console reads (event search, queue counts, activity, dead-letter
/// groups, employees, recent logins) and the persisted pause of handlers, in PostgreSQL.
///
/// Times of arrival follow `seq` (and an attempt's end follows its id) closely enough
/// for the console: a time range becomes a range of keys by a binary search on the
/// primary key, in one statement (``firstKey(table:key:time:value:)``), so no index on
/// `received_at` is kept up on every append.
extension PostgresStore {
    /// Events newest first, filtered as `query` says; see ``InletStore/searchEvents(_:)``.
    package func searchEvents(_ query: EventQuery) async throws -> EventPage {
        let limit = Int64(max(1, min(query.limit, 1000)))
        let cursor = try query.cursorSeq()
        var low: Int64 = 0
        var high: Int64 = cursor ?? .max
        if let from = query.receivedFrom {
            low = max(low, try await self.firstKey(table: "events", key: "seq", time: "received_at", value: .text(from.description)))
        }
        if let before = query.receivedBefore {
            high = min(high, try await self.firstKey(table: "events", key: "seq", time: "received_at", value: .text(before.description)))
        }
        guard low < high else { return EventPage(records: [], nextCursor: nil) }
        var candidates: [Int64]? = nil
        if let subject = query.subject, let search = query.eventID {
            let rows = try await self.read(
                """
                WITH RECURSIVE sources(name) AS (
                    SELECT min(source) FROM events
                    UNION ALL
                    SELECT (SELECT min(source) FROM events WHERE source > sources.name) FROM sources WHERE sources.name IS NOT NULL
                )
                SELECT seq FROM events WHERE source IN (SELECT name FROM sources WHERE name IS NOT NULL) AND id = \(search)
                UNION SELECT event_seq FROM event_subjects WHERE subject = \(subject)
                """
            )
            candidates = try rows.map { try $0.decode(Int64.self) }
            if candidates?.isEmpty == true { return EventPage(records: [], nextCursor: nil) }
        }
        let state = query.state?.rawValue
        let handler = query.handler
        let stateCondition: String
        switch query.state {
        case .pending?, .running?, .dead?:
            // From the deliveries in that state (partial indexes deliveries_due, deliveries_dead).
            stateCondition = "e.seq IN (SELECT d.event_seq FROM deliveries d WHERE d.state = $7 AND ($6::text IS NULL OR d.handler = $6) AND d.event_seq >= $1 AND d.event_seq < $2)"
        // A correlated subquery with LIMIT, not EXISTS: the planner cannot turn it into a
        // join over every matching delivery, so the events are read newest first and each is
        // probed (UNIQUE (event_seq, handler)) until the page is full.
        case .done?:
            stateCondition = """
                coalesce((SELECT true FROM deliveries d WHERE d.event_seq = e.seq AND d.state = $7 AND ($6::text IS NULL OR d.handler = $6) LIMIT 1), false)
                """
        case nil:
            stateCondition = """
                ($6::text IS NULL OR coalesce((SELECT true FROM deliveries d WHERE d.event_seq = e.seq AND d.handler = $6 LIMIT 1), false))
                AND $7::text IS NULL
                """
        }
        var bindings = PostgresBindings()
        bindings.append(low)
        bindings.append(high)
        bindings.append(query.source)
        bindings.append(query.type)
        bindings.append(candidates)
        bindings.append(handler)
        bindings.append(state)
        bindings.append(limit + 1)
        let sql = """
            SELECT seq, source, id, type, received_at, payload, headers FROM events e
            WHERE e.seq >= $1 AND e.seq < $2 AND ($3::text IS NULL OR e.source = $3) AND ($4::text IS NULL OR e.type = $4)
              AND ($5::bigint[] IS NULL OR e.seq = ANY($5::bigint[])) AND \(stateCondition)
            ORDER BY e.seq DESC LIMIT $8
            """
        let rows = try await self.read(PostgresQuery(unsafeSQL: sql, binds: bindings))
        let events = try rows.prefix(Int(limit)).map(Self.eventWithHeaders)
        let records = try await self.records(events)
        let next = rows.count > Int(limit) ? records.last.map { EventQuery.cursor(after: $0.event.seq) } : nil
        return EventPage(records: records, nextCursor: next)
    }

    /// The smallest `key` of `table` whose `time` is at or after `value` (one past the
    /// largest when none is): a binary search over the primary key in one recursive
    /// statement, O(log² n), since times follow keys.
    func firstKey(table: String, key: String, time: String, value: PostgresValue) async throws -> Int64 {
        var bindings = PostgresBindings()
        switch value {
        case .text(let text): bindings.append(text)
        case .integer(let number): bindings.append(number)
        }
        let cast = { if case .text = value { "text" } else { "bigint" } }()
        let sql = """
            WITH RECURSIVE b(low, high, n) AS (
                SELECT min(\(key)), max(\(key)) + 1, 0 FROM \(table)
                UNION ALL
                SELECT CASE WHEN p.k IS NOT NULL AND p.t < $1::\(cast) THEN p.k + 1 ELSE b.low END,
                    CASE WHEN p.k IS NULL OR p.t >= $1::\(cast) THEN (b.low + b.high) / 2 ELSE b.high END,
                    b.n + 1
                FROM b LEFT JOIN LATERAL (
                    SELECT \(key) AS k, \(time) AS t FROM \(table) WHERE \(key) >= (b.low + b.high) / 2 ORDER BY \(key) LIMIT 1
                ) p ON true
                WHERE b.low < b.high AND b.n < 70
            )
            SELECT low FROM b ORDER BY n DESC LIMIT 1
            """
        let rows = try await self.read(PostgresQuery(unsafeSQL: sql, binds: bindings))
        return try rows.first?.decode(Int64?.self) ?? 1
    }

    /// A value compared in ``firstKey(table:key:time:value:)``.
    enum PostgresValue {
        case text(String)
        case integer(Int64)
    }

    /// Pending, running and dead counts per handler, the oldest pending due time, and the
    /// paused flag: O(backlog + dead) through the partial indexes.
    package func handlerCounts() async throws -> [HandlerQueueCounts] {
        let rows = try await self.read(
            """
            WITH backlog AS (
                SELECT handler, count(*) FILTER (WHERE state = 'pending') AS pending, count(*) FILTER (WHERE state = 'running') AS running,
                    min(next_attempt_at) FILTER (WHERE state = 'pending') AS oldest
                FROM deliveries WHERE state IN ('pending', 'running') GROUP BY handler
            ), dead AS (
                SELECT handler, count(*) AS dead FROM deliveries WHERE state = 'dead' GROUP BY handler
            ), names AS (
                SELECT handler FROM backlog UNION SELECT handler FROM dead UNION SELECT handler FROM handler_pauses
            )
            SELECT n.handler, coalesce(b.pending, 0), coalesce(b.running, 0), coalesce(d.dead, 0), b.oldest,
                EXISTS (SELECT 1 FROM handler_pauses p WHERE p.handler = n.handler)
            FROM names n LEFT JOIN backlog b ON b.handler = n.handler LEFT JOIN dead d ON d.handler = n.handler
            ORDER BY n.handler
            """
        )
        return try rows.map { row in
            let (handler, pending, running, dead, oldest, paused) = try row.decode((String, Int64, Int64, Int64, Int64?, Bool).self)
            return HandlerQueueCounts(
                handler: handler, pending: Int(pending), running: Int(running), dead: Int(dead),
                oldestDueAt: oldest.map(Timestamp.init(millisecondsSinceEpoch:)), paused: paused
            )
        }
    }

    /// Events received and attempts done per slice since `since`, from the first key in
    /// the window of each table. O(log² n + rows in the window).
    package func activity(since: Timestamp, bucketSeconds: Int) async throws -> [ActivityBucket] {
        let now = self.textClock.now()
        let width = Int64(max(1, bucketSeconds)) * 1000
        let firstEvent = try await self.firstKey(table: "events", key: "seq", time: "received_at", value: .text(since.description))
        let firstAttempt = try await self.firstKey(
            table: "delivery_attempts", key: "id", time: "finished_at", value: .integer(since.millisecondsSinceEpoch)
        )
        var received: [Int64: Int] = [:]
        // Counted per second of the stored text (no date parsing per row), then per slice.
        for row in try await self.read(
            "SELECT substr(received_at, 1, 19), count(*) FROM events WHERE seq >= \(firstEvent) GROUP BY 1"
        ) {
            let (second, count) = try row.decode((String, Int64).self)
            guard let start = Timestamp(rfc3339: second + "Z") else { continue }
            received[start.millisecondsSinceEpoch / width * width, default: 0] += Int(count)
        }
        var delivered: [Int64: Int] = [:]
        for row in try await self.read(
            """
            SELECT finished_at / \(width) * \(width), count(*) FROM delivery_attempts
            WHERE id >= \(firstAttempt) AND outcome = 'done' AND finished_at >= \(since.millisecondsSinceEpoch)
            GROUP BY 1
            """
        ) {
            let (start, count) = try row.decode((Int64, Int64).self)
            delivered[start] = Int(count)
        }
        return ActivityBucket.series(since: since, now: now, bucketSeconds: bucketSeconds, received: received, delivered: delivered)
    }

    /// Dead deliveries grouped by handler and error key, largest first: O(dead).
    package func deadLetterGroups(limit: Int) async throws -> [DeadLetterGroup] {
        let rows = try await self.read(
            """
            SELECT handler, \(unescaped: Self.deadKey), max(last_error), count(*), min(updated_at), max(updated_at)
            FROM deliveries WHERE state = 'dead'
            GROUP BY handler, \(unescaped: Self.deadKey) ORDER BY count(*) DESC, handler, 2 LIMIT \(Int64(max(1, limit)))
            """
        )
        return try rows.map { row in
            let (handler, key, sample, count, first, last) = try row.decode((String, String, String?, Int64, String, String).self)
            return DeadLetterGroup(
                handler: handler, errorKey: key, sampleError: sample ?? "", count: Int(count),
                firstSeen: Timestamp(rfc3339: first) ?? Timestamp(millisecondsSinceEpoch: 0),
                lastSeen: Timestamp(rfc3339: last) ?? Timestamp(millisecondsSinceEpoch: 0)
            )
        }
    }

    /// Pauses or resumes `handler` for every instance (the `handler_pauses` table, which
    /// every claim reads).
    package func setPaused(_ paused: Bool, handler: String) async throws {
        if paused {
            try await self.rows("INSERT INTO handler_pauses (handler, paused_at) VALUES (\(handler), \(self.nowText)) ON CONFLICT (handler) DO NOTHING")
        } else {
            try await self.rows("DELETE FROM handler_pauses WHERE handler = \(handler)")
            self.announce([handler])
        }
    }

    package func pausedHandlers() async throws -> Set<String> {
        Set(try await self.read("SELECT handler FROM handler_pauses").map { try $0.decode(String.self) })
    }

    /// Users by their last login, newest first (O(users): no index on the login time, so
    /// that a login writes no more than before).
    public func recentLogins(limit: Int) async throws -> [UserRecord] {
        let rows = try await self.read(
            """
            SELECT id, auth0_id, email, name, picture, email_verified, logins_count::bigint, last_login_at, created_at, updated_at
            FROM users WHERE last_login_at IS NOT NULL ORDER BY last_login_at DESC, id DESC LIMIT \(Int64(max(1, limit)))
            """
        )
        return try rows.map { row in
            let (id, auth0ID, email, name, picture, verified, logins, last, created, updated) = try row.decode(
                (Int64, String, String?, String?, String?, Bool, Int64, String?, String, String).self
            )
            return UserRecord(
                id: id, auth0ID: auth0ID, email: email, name: name, picture: picture, emailVerified: verified, loginsCount: Int(logins),
                lastLoginAt: last, createdAt: created, updatedAt: updated
            )
        }
    }

    /// Employees in id order after `after`, optionally of one sync status.
    public func listEmployees(status: Auth0SyncStatus?, after: String?, limit: Int) async throws -> [EmployeeRecord] {
        try await self.read(
            """
            SELECT \(unescaped: Self.columns) FROM employees
            WHERE (\(status?.rawValue)::text IS NULL OR auth0_sync_status = \(status?.rawValue)::text)
              AND (\(after)::text IS NULL OR employee_id COLLATE "C" > \(after)::text)
            ORDER BY employee_id COLLATE "C" LIMIT \(Int64(max(1, limit)))
            """
        ).map(Self.record)
    }
}

