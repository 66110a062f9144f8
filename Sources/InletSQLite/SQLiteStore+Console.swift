public import InletCore

/// What the operator console reads (event search, queue counts, activity, dead-letter
/// groups, employees, recent logins) and the persisted pause of handlers, in SQLite.
///
/// Times of arrival follow `seq`: one writer stamps both, in commit order. A time range
/// becomes a range of `seq` (a binary search on the primary key, O(log² n)), so no index
/// on `received_at` is kept up on every append.
extension SQLiteStore {
    /// Events newest first, filtered as `query` says; see ``InletStore/searchEvents(_:)``.
    ///
    /// Cost: a search looks up its candidates first (event ids through the UNIQUE(source,
    /// id) index, subjects through `event_subjects`), O(log n + matches); a pending,
    /// running or dead filter starts from the deliveries in that state (partial indexes,
    /// O(backlog) or O(dead)); otherwise the events are read newest first along the
    /// primary key (or `events_type`) and probed per delivery (UNIQUE(event_seq, handler)),
    /// stopping after `limit` matches.
    package func searchEvents(_ query: EventQuery) async throws -> EventPage {
        let limit = max(1, min(query.limit, 1000))
        let cursor = try query.cursorSeq()
        let rawSearch = query.subject
        let exactSearch = query.eventID
        return try await self.read { connection in
            // The seq range: [low, high).
            var low: Int64 = 0
            var high: Int64 = .max
            if let cursor { high = cursor }
            if let from = query.receivedFrom { low = max(low, try Self.firstSeq(connection, receivedAtOrAfter: from)) }
            if let before = query.receivedBefore { high = min(high, try Self.firstSeq(connection, receivedAtOrAfter: before)) }
            guard low < high else { return EventPage(records: [], nextCursor: nil) }

            let values: [SQLiteValue] = [
                .integer(low), .integer(high), .text(query.source), .text(query.type), .text(query.handler), .text(query.state?.rawValue),
                .integer(limit + 1),
            ]
            var conditions = "e.seq >= ?1 AND e.seq < ?2 AND (?3 IS NULL OR e.source = ?3) AND (?4 IS NULL OR e.type = ?4)"
            if let rawSearch, let exactSearch {
                // Candidates: events with this id (any source) or about this subject.
                let ids = try connection.query(
                    """
                    SELECT seq FROM events WHERE id = ?1 AND source IN (
                        WITH RECURSIVE sources(name) AS (
                            SELECT min(source) FROM events
                            UNION ALL
                            SELECT (SELECT min(source) FROM events WHERE source > sources.name) FROM sources WHERE sources.name IS NOT NULL
                        ) SELECT name FROM sources)
                    UNION SELECT s.event_seq AS seq FROM (
                        -- every block of 256 seqs, newest first: one seek each
                        WITH RECURSIVE blocks(block) AS (
                            SELECT (SELECT max(seq) FROM events) >> 8 UNION ALL SELECT block - 1 FROM blocks WHERE block > 0
                        ) SELECT block FROM blocks) AS b CROSS JOIN event_subjects s ON s.block = b.block AND s.subject = ?2
                    """,
                    [.text(exactSearch), .text(rawSearch)]
                ).map { try $0.int64("seq") }
                guard !ids.isEmpty else { return EventPage(records: [], nextCursor: nil) }
                conditions += " AND e.seq IN (\(ids.map(String.init).joined(separator: ",")))"
            }
            switch query.state {
            case .pending?, .running?, .dead?:
                let inState = query.state == .dead
                    ? "deliveries d INDEXED BY deliveries_dead WHERE d.state = 'dead'"
                    : "deliveries d INDEXED BY deliveries_due WHERE d.state IN ('pending', 'running') AND d.state = ?6"
                conditions += """
                     AND e.seq IN (SELECT event_seq FROM \(inState) AND (?5 IS NULL OR d.handler = ?5)
                        AND d.event_seq >= ?1 AND d.event_seq < ?2)
                    """
            case .done?:
                conditions += " AND EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state = ?6 AND (?5 IS NULL OR d.handler = ?5))"
            case nil:
                conditions += " AND (?5 IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.handler = ?5))"
            }
            let rows = try connection.query(
                "SELECT seq, source, id, type, received_at, payload, headers FROM events e WHERE \(conditions) ORDER BY e.seq DESC LIMIT ?7",
                values
            )
            let records = try rows.prefix(limit).map { try Self.record(connection, row: $0) }
            let next = rows.count > limit ? records.last.map { EventQuery.cursor(after: $0.event.seq) } : nil
            return EventPage(records: records, nextCursor: next)
        }
    }

    /// The smallest seq of an event received at or after `time` (one past the last event
    /// when none is): a binary search over the primary key, since arrival times follow seq.
    static func firstSeq(_ connection: SQLiteConnection, receivedAtOrAfter time: Timestamp) throws -> Int64 {
        try Self.firstKey(connection, table: "events", key: "seq", time: "received_at", atOrAfter: .text(time.description))
    }

    /// The smallest `key` of `table` whose `time` is at or after `value` (one past the
    /// largest key when none is; 1 for an empty table), by a binary search over the key:
    /// O(log² n), for tables whose times follow their keys.
    static func firstKey(_ connection: SQLiteConnection, table: String, key: String, time: String, atOrAfter value: SQLiteValue) throws -> Int64 {
        // Two subqueries: SQLite reads min() or max() from the key only when it is alone.
        let bounds = try connection.requiredRow("SELECT (SELECT min(\(key)) FROM \(table)) AS low, (SELECT max(\(key)) FROM \(table)) AS high")
        guard var low = try bounds.optionalInt64("low"), let last = try bounds.optionalInt64("high") else { return 1 }
        var high = last + 1  // the answer is in [low, high]
        for _ in 0..<70 where low < high {
            let middle = low + (high - low) / 2
            // The first row at or after `middle` (keys may have gaps).
            guard
                let row = try connection.row(
                    "SELECT \(key) AS key, \(time) >= ?2 AS after FROM \(table) WHERE \(key) >= ?1 ORDER BY \(key) LIMIT 1",
                    [.integer(middle), value]
                )
            else {
                high = middle
                continue
            }
            if try row.bool("after") {
                high = middle
            } else {
                low = try row.int64("key") + 1
            }
        }
        return low
    }

    /// Pending, running and dead counts per handler, the oldest pending due time, and the
    /// paused flag: O(backlog) over the partial index deliveries_due, O(dead) over
    /// deliveries_dead.
    package func handlerCounts() async throws -> [HandlerQueueCounts] {
        try await self.read { connection in
            struct Counts {
                var pending = 0, running = 0, dead = 0
                var oldest: Int64?
                var paused = false
            }
            var counts: [String: Counts] = [:]
            for row in try connection.query(
                """
                SELECT handler, state, count(*) AS count, min(next_attempt_at) AS oldest FROM deliveries INDEXED BY deliveries_due
                WHERE state IN ('pending', 'running') GROUP BY handler, state
                """
            ) {
                let handler = try row.string("handler")
                let count = try row.int("count")
                if try row.string("state") == "pending" {
                    counts[handler, default: Counts()].pending = count
                    counts[handler, default: Counts()].oldest = try row.optionalInt64("oldest")
                } else {
                    counts[handler, default: Counts()].running = count
                }
            }
            for row in try connection.query(
                "SELECT handler, count(*) AS count FROM deliveries INDEXED BY deliveries_dead WHERE state = 'dead' GROUP BY handler"
            ) {
                counts[try row.string("handler"), default: Counts()].dead = try row.int("count")
            }
            for row in try connection.query("SELECT handler FROM handler_pauses") {
                counts[try row.string("handler"), default: Counts()].paused = true
            }
            return counts.keys.sorted().map { name in
                let c = counts[name]!
                return HandlerQueueCounts(
                    handler: name, pending: c.pending, running: c.running, dead: c.dead,
                    oldestDueAt: c.oldest.map(Timestamp.init(millisecondsSinceEpoch:)), paused: c.paused
                )
            }
        }
    }

    /// Events received and deliveries done per slice since `since`: each slice's first
    /// event is found by a binary search on the key (arrival follows seq) and the events
    /// between two slices' keys are counted by SQLite; deliveries done are the `done`
    /// attempts of the events received from ``activityLookback`` before `since` on (the
    /// attempt rows are keyed by event), so a delivery of an older event (a late retry, a
    /// replay) is not in the chart. O(slices · log² n + rows in the window), with no index
    /// on the times and nothing more written per outcome.
    package func activity(since: Timestamp, bucketSeconds: Int) async throws -> [ActivityBucket] {
        let now = self.clock.now()
        let width = Int64(max(1, bucketSeconds)) * 1000
        let starts = ActivityBucket.series(since: since, now: now, bucketSeconds: bucketSeconds, received: [:], delivered: [:]).map(\.start)
        return try await self.read { connection in
            var received: [Int64: Int] = [:]
            var keys = try starts.map { start in
                try Self.firstKey(connection, table: "events", key: "seq", time: "received_at", atOrAfter: .text(start.description))
            }
            keys.append(.max)
            for (index, start) in starts.enumerated() where keys[index] < keys[index + 1] {
                received[start.millisecondsSinceEpoch] = try connection.requiredRow(
                    "SELECT count(*) AS count FROM events WHERE seq >= ? AND seq < ?", [.integer(keys[index]), .integer(keys[index + 1])]
                ).int("count")
            }
            var delivered: [Int64: Int] = [:]
            let firstEvent = try Self.firstSeq(connection, receivedAtOrAfter: since.adding(seconds: -Self.activityLookback))
            let windowStart = (starts.first ?? since).millisecondsSinceEpoch
            for row in try connection.query(
                """
                SELECT finished_at / ?3 * ?3 AS start, count(*) AS count FROM delivery_attempts
                WHERE event_seq >= ?1 AND outcome = 'done' AND finished_at >= ?2 GROUP BY start
                """,
                [.integer(firstEvent), .integer(windowStart), .integer(width)]
            ) {
                delivered[try row.int64("start"), default: 0] += try row.int("count")
            }
            return ActivityBucket.series(since: since, now: now, bucketSeconds: bucketSeconds, received: received, delivered: delivered)
        }
    }

    /// How long before the activity window an event may have been received for its
    /// deliveries to count in it (seconds).
    static let activityLookback = 3600.0

    /// Dead deliveries grouped by handler and error key, largest first: O(dead).
    package func deadLetterGroups(limit: Int) async throws -> [DeadLetterGroup] {
        try await self.read { connection in
            try connection.query(
                """
                SELECT handler, \(Self.deadKey) AS error_key, max(last_error) AS sample, count(*) AS count,
                    min(updated_at) AS first_seen, max(updated_at) AS last_seen
                FROM deliveries INDEXED BY deliveries_dead WHERE state = 'dead'
                GROUP BY handler, \(Self.deadKey) ORDER BY count DESC, handler, error_key LIMIT ?
                """,
                [.integer(max(1, limit))]
            ).map { row in
                DeadLetterGroup(
                    handler: try row.string("handler"), errorKey: try row.string("error_key"), sampleError: try row.optionalString("sample") ?? "",
                    count: try row.int("count"), firstSeen: Timestamp(rfc3339: try row.string("first_seen")) ?? Timestamp(millisecondsSinceEpoch: 0),
                    lastSeen: Timestamp(rfc3339: try row.string("last_seen")) ?? Timestamp(millisecondsSinceEpoch: 0)
                )
            }
        }
    }

    /// Pauses or resumes `handler` (the `handler_pauses` table, which every claim reads).
    package func setPaused(_ paused: Bool, handler: String) async throws {
        let now = self.clock.now().description
        try await self.write { connection in
            if paused {
                try connection.execute("INSERT INTO handler_pauses (handler, paused_at) VALUES (?, ?) ON CONFLICT (handler) DO NOTHING", [.text(handler), .text(now)])
            } else {
                try connection.execute("DELETE FROM handler_pauses WHERE handler = ?", [.text(handler)])
            }
        }
    }

    package func pausedHandlers() async throws -> Set<String> {
        try await self.read { connection in
            Set(try connection.query("SELECT handler FROM handler_pauses").map { try $0.string("handler") })
        }
    }

    /// Users by their last login, newest first: O(users) (no index on the login time, so
    /// that a login writes no more pages than before).
    public func recentLogins(limit: Int) async throws -> [UserRecord] {
        try await self.read { connection in
            try connection.query(
                """
                SELECT id, auth0_id, email, name, picture, email_verified, logins_count, last_login_at, created_at, updated_at
                FROM users WHERE last_login_at IS NOT NULL ORDER BY last_login_at DESC, id DESC LIMIT ?
                """,
                [.integer(max(1, limit))]
            ).map { row in
                UserRecord(
                    id: try row.int64("id"), auth0ID: try row.string("auth0_id"), email: try row.optionalString("email"),
                    name: try row.optionalString("name"), picture: try row.optionalString("picture"),
                    emailVerified: try row.bool("email_verified"), loginsCount: try row.int("logins_count"),
                    lastLoginAt: try row.optionalString("last_login_at"), createdAt: try row.string("created_at"),
                    updatedAt: try row.string("updated_at")
                )
            }
        }
    }

    /// Employees in id order after `after`, optionally of one sync status: along the
    /// primary key, O(log n + limit) without a status.
    public func listEmployees(status: Auth0SyncStatus?, after: String?, limit: Int) async throws -> [EmployeeRecord] {
        try await self.read { connection in
            try connection.query(
                """
                SELECT \(Self.columns) FROM employees WHERE (?1 IS NULL OR auth0_sync_status = ?1) AND (?2 IS NULL OR employee_id > ?2)
                ORDER BY employee_id LIMIT ?3
                """,
                [.text(status?.rawValue), .text(after), .integer(max(1, limit))]
            ).map { try Self.record($0) }
        }
    }
}

