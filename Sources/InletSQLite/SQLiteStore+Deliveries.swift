package import InletCore
/// Events, deliveries and the audit log in SQLite.
extension SQLiteStore {
    /// Appends events in one transaction, each with one delivery per handler it names; a
    /// repeated `(source, id)` is reported as a duplicate and plans nothing.
    package func appendEvents(_ events: [NewEvent]) async throws -> [AppendResult] {
        let now = self.clock.now()
        let results = try await self.write { connection in
            try events.map { try Self.insertEvent(connection, $0, now: now) }
        }
        self.adjustDepth(by: zip(events, results).reduce(0) { $0 + ($1.1.duplicate ? 0 : $1.0.handlers.count) })
        return results
    }

    static func insertEvent(_ connection: SQLiteConnection, _ event: NewEvent, now: Timestamp) throws -> AppendResult {
        let text = now.description
        try connection.execute(
            "INSERT INTO events (source, id, type, received_at, payload, headers) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, id) DO NOTHING",
            [
                .text(event.source.rawValue), .text(event.id), .text(event.type.rawValue), .text(text), .text(event.payload),
                .text(StoredHeaders.encode(event.headers)),
            ]
        )
        guard connection.changes == 1 else {
            // The conflicting row is there: the insert did nothing because of it.
            let seq = try connection.requiredRow(
                "SELECT seq FROM events WHERE source = ? AND id = ?", [.text(event.source.rawValue), .text(event.id)]
            ).int64("seq")
            return AppendResult(seq: seq, eventID: event.id, duplicate: true)
        }
        let seq = connection.lastInsertRowID
        for subject in event.subjects {
            try connection.execute(
                "INSERT OR IGNORE INTO event_subjects (block, subject, event_seq) VALUES (?1 >> 8, ?2, ?1)", [.integer(seq), .text(subject)]
            )
        }
        for handler in event.handlers {
            try connection.execute(
                "INSERT INTO deliveries (event_seq, handler, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                [.integer(seq), .text(handler), .integer(now.millisecondsSinceEpoch), .text(text), .text(text)]
            )
        }
        return AppendResult(seq: seq, eventID: event.id, duplicate: false, handlers: event.handlers)
    }

    /// Claims up to `limit` of `handler`'s deliveries that are due, or whose lease expired
    /// (a crash mid-handler), leasing them for `leaseSeconds` under a fresh token. When none
    /// is due, also says when the next one will be.
    ///
    /// A delivery whose lease expired after `maxAttempts` claims had no outcome from any of
    /// them (the process stopped each time it ran it): it is dead-lettered, not run again.
    /// `excluding` are deliveries the caller still runs; they are never claimed again.
    ///
    /// O(log n + limit): the partial index `deliveries_due(handler, next_attempt_at)` holds
    /// only pending and running rows.
    package func claimDue(
        handler: String, limit: Int, leaseSeconds: Double, maxAttempts: Int = .max, excluding: Set<Int64> = []
    ) async throws -> (claims: [Claim], nextDue: Timestamp?) {
        let now = self.clock.now()
        let result = try await self.write { connection in
            let nowMs = now.millisecondsSinceEpoch
            let rows = try connection.query(
                """
                SELECT d.id AS delivery_id, d.attempts, d.state, e.seq, e.source, e.id, e.type, e.received_at, e.payload
                FROM deliveries d JOIN events e ON e.seq = d.event_seq
                WHERE d.handler = ?1 AND d.state IN ('pending', 'running') AND d.next_attempt_at <= ?2
                  AND NOT EXISTS (SELECT 1 FROM handler_pauses WHERE handler = ?1)
                ORDER BY d.next_attempt_at LIMIT ?3
                """,
                [.text(handler), .integer(nowMs), .integer(limit + excluding.count)]
            )
            var claims: [Claim] = []
            claims.reserveCapacity(rows.count)
            var abandoned = 0
            let lease = now.adding(seconds: leaseSeconds).millisecondsSinceEpoch
            let text = now.description
            for row in rows where claims.count < limit {
                let deliveryID = try row.int64("delivery_id")
                guard !excluding.contains(deliveryID) else { continue }
                let attempts = try row.int("attempts")
                let event = try Self.event(row)
                if try row.string("state", as: DeliveryState.self) == .running && attempts >= maxAttempts {
                    let error = DeliveryOutcome.abandonedError(attempts: attempts)
                    try connection.execute(
                        "UPDATE deliveries SET state = 'dead', lease_until = NULL, lease_token = NULL, last_error = ?, dead_reason = ?, updated_at = ?, error_key = ? WHERE id = ?",
                        [
                            .text(error), .text(DeliveryOutcome.DeadReason.exhausted.rawValue), .text(text),
                            .text(DeadLetterGroup.errorKey(error)), .integer(deliveryID),
                        ]
                    )
                    try Self.insertAudit(connection, at: text, event: event, handler: handler, outcome: "dead_exhausted", detail: error)
                    abandoned += 1
                    continue
                }
                let token = Int64.random(in: 1...Int64.max)
                try connection.execute(
                    """
                    UPDATE deliveries SET state = 'running', attempts = attempts + 1, lease_until = ?1, next_attempt_at = ?1,
                        lease_token = ?2, updated_at = ?3
                    WHERE id = ?4
                    """,
                    [.integer(lease), .integer(token), .text(text), .integer(deliveryID)]
                )
                claims.append(Claim(deliveryID: deliveryID, token: token, attempt: attempts + 1, event: event))
            }
            if !claims.isEmpty { return (claims, nil as Timestamp?, abandoned) }
            // Paused: nothing is due until it resumes (which wakes the worker).
            if try connection.row("SELECT 1 FROM handler_pauses WHERE handler = ?", [.text(handler)]) != nil {
                return ([], nil, abandoned)
            }
            let next = try connection.requiredRow(
                "SELECT min(next_attempt_at) AS next_attempt_at FROM deliveries WHERE handler = ? AND state IN ('pending', 'running')",
                [.text(handler)]
            )
            guard let nextMs = try next.optionalInt64("next_attempt_at") else { return ([], nil, abandoned) }
            return ([], Timestamp(millisecondsSinceEpoch: nextMs), abandoned)
        }
        self.adjustDepth(by: -result.2)
        return (result.0, result.1)
    }

    /// Records the outcomes of claimed deliveries, each with the audit rows its handler
    /// added and (with `auditOutcome`) one for the outcome, in one transaction.
    ///
    /// Fenced: an outcome is written only while its claim's token is the delivery's
    /// current one. Returns the deliveries whose lease was lost (claimed again since, or
    /// replayed): their outcomes and audit rows are discarded.
    @discardableResult
    package func complete(_ completions: [Completion]) async throws -> [Int64] {
        let now = self.clock.now()
        let (lost, finished) = try await self.write { connection in
            var lost: [Int64] = []
            var finished = 0
            for completion in completions {
                if try Self.recordOutcome(completion, at: now, on: connection) {
                    if case .retry = completion.outcome {} else { finished += 1 }
                } else {
                    lost.append(completion.claim.deliveryID)
                }
            }
            return (lost, finished)
        }
        self.adjustDepth(by: -finished)
        return lost
    }

    /// Writes one outcome if the claim still holds the lease; false when it does not.
    private static func recordOutcome(_ completion: Completion, at now: Timestamp, on connection: SQLiteConnection) throws -> Bool {
        let text = now.description
        let claim = completion.claim
        let fence: [SQLiteValue] = [.integer(claim.deliveryID), .integer(claim.token)]
        switch completion.outcome {
        case .done:
            try connection.execute(
                """
                UPDATE deliveries SET state = 'done', lease_until = NULL, lease_token = NULL, last_error = NULL, updated_at = ?3
                WHERE id = ?1 AND lease_token = ?2 AND state = 'running'
                """,
                fence + [.text(text)]
            )
        case .retry(let at, let error):
            try connection.execute(
                """
                UPDATE deliveries SET state = 'pending', lease_until = NULL, lease_token = NULL, next_attempt_at = ?3, last_error = ?4,
                    updated_at = ?5
                WHERE id = ?1 AND lease_token = ?2 AND state = 'running'
                """,
                fence + [.integer(at.millisecondsSinceEpoch), .text(error), .text(text)]
            )
        case .dead(let error, let reason):
            try connection.execute(
                """
                UPDATE deliveries SET state = 'dead', lease_until = NULL, lease_token = NULL, last_error = ?3, dead_reason = ?4,
                    updated_at = ?5, error_key = ?6
                WHERE id = ?1 AND lease_token = ?2 AND state = 'running'
                """,
                fence + [.text(error), .text(reason.rawValue), .text(text), .text(DeadLetterGroup.errorKey(error))]
            )
        }
        guard connection.changes == 1 else { return false }
        let attempt = completion.attemptRecord(now: now)
        try connection.execute(
            """
            INSERT OR IGNORE INTO delivery_attempts (event_seq, delivery_id, attempt, instance, started_at, finished_at, outcome, error, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(claim.event.seq), .integer(claim.deliveryID), .integer(attempt.attempt), .text(attempt.instance),
                .integer(attempt.startedAt.millisecondsSinceEpoch), .integer(attempt.finishedAt.millisecondsSinceEpoch), .text(attempt.outcome),
                .text(attempt.error), attempt.nextAttemptAt.map { .integer($0.millisecondsSinceEpoch) } ?? .null,
            ]
        )
        for note in completion.auditRows {
            try Self.insertAudit(connection, at: text, event: claim.event, handler: completion.handler, outcome: note.outcome, detail: note.detail)
        }
        return true
    }

    /// Extends the leases of deliveries still running, so that none is claimed a second
    /// time while its handler works (a crash stops the renewals and the lease then expires).
    /// Fenced like ``complete(_:)``: returns the deliveries whose lease was already lost.
    @discardableResult
    package func renewLeases(_ claims: [Claim], leaseSeconds: Double) async throws -> [Int64] {
        let now = self.clock.now()
        return try await self.write { connection in
            let lease = now.adding(seconds: leaseSeconds).millisecondsSinceEpoch
            var lost: [Int64] = []
            for claim in claims {
                try connection.execute(
                    "UPDATE deliveries SET lease_until = ?1, next_attempt_at = ?1 WHERE id = ?2 AND lease_token = ?3 AND state = 'running'",
                    [.integer(lease), .integer(claim.deliveryID), .integer(claim.token)]
                )
                if connection.changes == 0 { lost.append(claim.deliveryID) }
            }
            return lost
        }
    }

    private static func insertAudit(_ connection: SQLiteConnection, at: String, event: Event, handler: String?, outcome: String, detail: String?) throws {
        try connection.execute(
            "INSERT INTO audit_log (at, event_seq, event_id, event_type, handler, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [.text(at), .integer(event.seq), .text(event.id), .text(event.type), .text(handler), .text(outcome), .text(detail)]
        )
    }

    /// Makes every delivery of the event with `id` not running (only `handler`'s, when
    /// given) due now, with a fresh attempt budget. Returns how many deliveries were reset;
    /// nil when there is no such event.
    package func replay(eventID id: String, handler: String?) async throws -> Int? {
        let now = self.clock.now()
        let result = try await self.write { connection -> (replayed: Int, reopened: Int)? in
            guard let event = try connection.row(Self.eventByID, [.text(id)]) else {
                return nil
            }
            let seq = SQLiteValue.integer(try event.int64("seq"))
            let reopened = try connection.requiredRow(
                "SELECT count(*) AS count FROM deliveries WHERE event_seq = ?1 AND state IN ('done', 'dead') AND (?2 IS NULL OR handler = ?2)",
                [seq, .text(handler)]
            ).int("count")
            try connection.execute(
                """
                UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?1, lease_until = NULL, lease_token = NULL,
                    dead_reason = NULL, error_key = NULL, updated_at = ?2
                WHERE event_seq = ?3 AND state != 'running' AND (?4 IS NULL OR handler = ?4)
                """,
                [.integer(now.millisecondsSinceEpoch), .text(now.description), seq, .text(handler)]
            )
            return (connection.changes, reopened)
        }
        guard let result else { return nil }
        self.adjustDepth(by: result.reopened)
        return result.replayed
    }

    /// Makes dead deliveries due now, with a fresh attempt budget: all, `handler`'s, or one
    /// group (`handler` and `errorKey`, as ``deadLetterGroups(limit:)`` keys them); returns
    /// how many.
    package func replayDead(handler: String?, errorKey: String?) async throws -> Int {
        let now = self.clock.now()
        // O(dead): the partial index deliveries_dead.
        let count = try await self.write { connection in
            try connection.execute(
                """
                UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?1, dead_reason = NULL, error_key = NULL, updated_at = ?2
                WHERE state = 'dead' AND (?3 IS NULL OR handler = ?3) AND (?4 IS NULL OR \(Self.deadKey) = ?4)
                """,
                [.integer(now.millisecondsSinceEpoch), .text(now.description), .text(handler), .text(errorKey)]
            )
            return connection.changes
        }
        self.adjustDepth(by: count)
        return count
    }

    /// A dead delivery's group key: its error key (rows dead before keys were kept: the
    /// error itself).
    static let deadKey = "coalesce(error_key, last_error, '')"

    /// Deletes up to `limit` events received before `cutoff` whose deliveries are all done
    /// (with `includingDead`, done or dead), with their deliveries and audit rows, in one
    /// transaction; returns how many events went. Retention calls it in small batches so
    /// that the writer is never held for long; SQLite reuses the freed pages.
    ///
    /// O(limit + k · log n), k the old events kept (not finished) that the scan from the
    /// oldest passes over.
    package func purgeEvents(receivedBefore cutoff: Timestamp, includingDead: Bool, limit: Int) async throws -> Int {
        let kept = includingDead ? "'pending', 'running'" : "'pending', 'running', 'dead'"
        return try await self.write { connection in
            let seqs = try connection.query(
                """
                SELECT seq FROM events e
                WHERE e.received_at < ?1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state IN (\(kept)))
                ORDER BY seq LIMIT ?2
                """,
                [.text(cutoff.description), .integer(limit)]
            ).map { row in SQLiteValue.integer(try row.int64("seq")) }
            for seq in seqs {
                try connection.execute("DELETE FROM audit_log WHERE event_seq = ?", [seq])
                try connection.execute("DELETE FROM delivery_attempts WHERE event_seq = ?", [seq])
                try connection.execute("DELETE FROM event_subjects WHERE block = ?1 >> 8 AND event_seq = ?1", [seq])
                try connection.execute("DELETE FROM deliveries WHERE event_seq = ?", [seq])
                try connection.execute("DELETE FROM events WHERE seq = ?", [seq])
            }
            return seqs.count
        }
    }

    /// The first stored event with the id `?1`, whatever its source, through the
    /// UNIQUE(source, id) index: the sources are found by a loose scan of that index (one
    /// probe each), then the id is looked up under each. O(s · log n) for s sources, and no
    /// index of its own to keep up on every insert.
    static let eventByID = """
        WITH RECURSIVE sources(name) AS (
            SELECT min(source) FROM events
            UNION ALL
            SELECT (SELECT min(source) FROM events WHERE source > sources.name) FROM sources WHERE sources.name IS NOT NULL
        )
        SELECT seq, source, id, type, received_at, payload, headers FROM events
        WHERE source IN (SELECT name FROM sources) AND id = ?1 ORDER BY seq LIMIT 1
        """

    /// One event by id (the first stored, if several sources used the same id), as
    /// ``eventByID``.
    package func eventRecord(id: String) async throws -> EventRecord? {
        try await self.read { connection in
            guard let row = try connection.row(Self.eventByID, [.text(id)]) else {
                return nil
            }
            return try Self.record(connection, row: row, history: true)
        }
    }

    /// The event of a row with the columns `seq, source, id, type, received_at, payload`.
    static func event(_ row: SQLiteRow) throws(SQLiteError) -> Event {
        Event(
            seq: try row.int64("seq"), source: try row.string("source"), id: try row.string("id"), type: try row.string("type"),
            receivedAt: try row.string("received_at"), payload: try row.string("payload")
        )
    }

    /// The record of an event row (with the columns of ``event(_:)`` and `headers`): its
    /// deliveries, with their attempts when `history`.
    static func record(_ connection: SQLiteConnection, row: SQLiteRow, history: Bool = false) throws -> EventRecord {
        let event = try Self.event(row)
        var attempts: [Int64: [AttemptRecord]] = [:]
        if history {
            let rows = try connection.query(
                """
                SELECT delivery_id, attempt, instance, started_at, finished_at, outcome, error, next_attempt_at
                FROM delivery_attempts WHERE event_seq = ? ORDER BY delivery_id, started_at, attempt
                """,
                [.integer(event.seq)]
            )
            for a in rows {
                let record = AttemptRecord(
                    deliveryID: try a.int64("delivery_id"), attempt: try a.int("attempt"), instance: try a.string("instance"),
                    startedAt: Timestamp(millisecondsSinceEpoch: try a.int64("started_at")),
                    finishedAt: Timestamp(millisecondsSinceEpoch: try a.int64("finished_at")), outcome: try a.string("outcome"),
                    error: try a.optionalString("error"), nextAttemptAt: try a.optionalInt64("next_attempt_at").map(Timestamp.init(millisecondsSinceEpoch:))
                )
                attempts[record.deliveryID, default: []].append(record)
            }
        }
        let deliveries = try connection.query(
            "SELECT id, handler, state, attempts, next_attempt_at, last_error, dead_reason, updated_at FROM deliveries WHERE event_seq = ? ORDER BY handler",
            [.integer(event.seq)]
        ).map { d in
            let id = try d.int64("id")
            return DeliveryRecord(
                id: id, handler: try d.string("handler"), state: try d.string("state", as: DeliveryState.self),
                attempts: try d.int("attempts"), nextAttemptAt: Timestamp(millisecondsSinceEpoch: try d.int64("next_attempt_at")),
                lastError: try d.optionalString("last_error"), deadReason: try d.optionalString("dead_reason"),
                updatedAt: try d.string("updated_at"), attemptHistory: attempts[id] ?? []
            )
        }
        return EventRecord(event: event, deliveries: deliveries, headers: StoredHeaders.decode(try row.optionalString("headers")))
    }

    /// Deliveries waiting or running (kept by the writer: no scan), and the due time of
    /// the oldest pending one: for each handler with a backlog (found by a loose scan of
    /// the partial index deliveries_due), its first pending row in due order. O(h · log n)
    /// for h handlers.
    package func queueStatus() async throws -> (depth: Int, oldestPendingMs: Int64?) {
        let depth = self.backlog
        let oldest = try await self.read { connection -> Int64? in
            let rows = try connection.query(
                """
                WITH RECURSIVE handlers(name) AS (
                    SELECT min(handler) FROM deliveries WHERE state IN ('pending', 'running')
                    UNION ALL
                    SELECT (SELECT min(handler) FROM deliveries WHERE state IN ('pending', 'running') AND handler > handlers.name)
                    FROM handlers WHERE handlers.name IS NOT NULL
                )
                SELECT (SELECT next_attempt_at FROM deliveries
                        WHERE handler = handlers.name AND state IN ('pending', 'running') AND state = 'pending'
                        ORDER BY next_attempt_at LIMIT 1) AS next_attempt_at
                FROM handlers WHERE handlers.name IS NOT NULL
                """
            )
            // NULL for a handler whose backlog is all running.
            return try rows.compactMap { row in try row.optionalInt64("next_attempt_at") }.min()
        }
        return (depth, oldest)
    }
}
