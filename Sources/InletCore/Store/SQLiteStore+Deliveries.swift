/// Events, deliveries and the audit log in SQLite.
extension SQLiteStore {
    /// Appends an event and plans one delivery per handler, in one transaction; a repeated
    /// `(source, id)` is reported as a duplicate and plans nothing.
    public func appendEvent(source: String, id: String, type: String, payload: String, handlers: [String]) async throws -> AppendResult {
        let now = self.clock.now()
        return try await self.write { connection in
            try Self.insertEvent(connection, source: source, id: id, type: type, payload: payload, handlers: handlers, now: now)
        }
    }

    /// Appends several events (an import) in one transaction, each as ``appendEvent``.
    public func appendEvents(_ events: [NewEvent], handlers: [String]) async throws -> [AppendResult] {
        let now = self.clock.now()
        return try await self.write { connection in
            try events.map { event in
                try Self.insertEvent(
                    connection, source: event.source, id: event.id, type: event.type, payload: event.payload, handlers: handlers, now: now
                )
            }
        }
    }

    static func insertEvent(
        _ connection: SQLiteConnection, source: String, id: String, type: String, payload: String, handlers: [String], now: Timestamp
    ) throws -> AppendResult {
        let text = now.description
        try connection.execute(
            "INSERT INTO events (source, id, type, received_at, payload) VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, id) DO NOTHING",
            [.text(source), .text(id), .text(type), .text(text), .text(payload)]
        )
        guard connection.changes == 1 else {
            let seq = try connection.row("SELECT seq FROM events WHERE source = ? AND id = ?", [.text(source), .text(id)])?.first
            return AppendResult(seq: Int64(seq?.int ?? 0), eventID: id, duplicate: true)
        }
        let seq = connection.lastInsertRowID
        for handler in handlers {
            try connection.execute(
                "INSERT INTO deliveries (event_seq, handler, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                [.integer(seq), .text(handler), .integer(now.millisecondsSinceEpoch), .text(text), .text(text)]
            )
        }
        return AppendResult(seq: seq, eventID: id, duplicate: false)
    }

    /// Claims up to `limit` of `handler`'s deliveries that are due, or whose lease expired
    /// (a crash mid-handler), leasing them for `leaseSeconds`. When none is due, also
    /// says when the next one will be.
    public func claimDue(handler: String, limit: Int, leaseSeconds: Double) async throws -> (claims: [Claim], nextDue: Timestamp?) {
        let now = self.clock.now()
        return try await self.write { connection in
            let nowMs = now.millisecondsSinceEpoch
            let rows = try connection.query(
                """
                SELECT d.id, d.attempts, e.seq, e.source, e.id, e.type, e.received_at, e.payload
                FROM deliveries d JOIN events e ON e.seq = d.event_seq
                WHERE d.handler = ?1 AND d.state IN ('pending', 'running') AND d.next_attempt_at <= ?2
                ORDER BY d.next_attempt_at LIMIT ?3
                """,
                [.text(handler), .integer(nowMs), .integer(limit)]
            )
            var claims: [Claim] = []
            claims.reserveCapacity(rows.count)
            let lease = now.adding(seconds: leaseSeconds).millisecondsSinceEpoch
            let text = now.description
            for row in rows {
                guard case .integer(let deliveryID) = row[0], case .integer(let seq) = row[2] else { continue }
                try connection.execute(
                    "UPDATE deliveries SET state = 'running', attempts = attempts + 1, lease_until = ?1, next_attempt_at = ?1, updated_at = ?2 WHERE id = ?3",
                    [.integer(lease), .text(text), .integer(deliveryID)]
                )
                let event = Event(
                    seq: seq, source: row[3].string ?? "", id: row[4].string ?? "", type: row[5].string ?? "",
                    receivedAt: row[6].string ?? "", payload: row[7].string ?? ""
                )
                claims.append(Claim(deliveryID: deliveryID, attempt: (row[1].int ?? 0) + 1, event: event))
            }
            if !claims.isEmpty { return (claims, nil) }
            let next = try connection.row(
                "SELECT min(next_attempt_at) FROM deliveries WHERE handler = ? AND state IN ('pending', 'running')", [.text(handler)]
            )?.first
            guard case .integer(let nextMs) = next else { return ([], nil) }
            return ([], Timestamp(millisecondsSinceEpoch: nextMs))
        }
    }

    /// Records the outcomes of claimed deliveries, each with the audit rows its handler
    /// added and (with `auditOutcome`) one for the outcome, in one transaction.
    public func complete(_ completions: [Completion]) async throws {
        let now = self.clock.now()
        try await self.write { connection in
            let text = now.description
            for completion in completions {
                try Self.recordOutcome(completion, at: text, on: connection)
            }
        }
    }

    private static func recordOutcome(_ completion: Completion, at text: String, on connection: SQLiteConnection) throws {
        let claim = completion.claim
        let detail: String?
        switch completion.outcome {
        case .done:
            detail = nil
            try connection.execute(
                "UPDATE deliveries SET state = 'done', lease_until = NULL, last_error = NULL, updated_at = ? WHERE id = ?",
                [.text(text), .integer(claim.deliveryID)]
            )
        case .retry(let at, let error):
            detail = error
            try connection.execute(
                "UPDATE deliveries SET state = 'pending', lease_until = NULL, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
                [.integer(at.millisecondsSinceEpoch), .text(error), .text(text), .integer(claim.deliveryID)]
            )
        case .dead(let error, let reason):
            detail = error
            try connection.execute(
                "UPDATE deliveries SET state = 'dead', lease_until = NULL, last_error = ?, dead_reason = ?, updated_at = ? WHERE id = ?",
                [.text(error), .text(reason.rawValue), .text(text), .integer(claim.deliveryID)]
            )
        }
        for note in completion.notes {
            try Self.insertAudit(connection, at: text, event: claim.event, handler: completion.handler, outcome: note.outcome, detail: note.detail)
        }
        if completion.auditOutcome {
            let name: String
            switch completion.outcome {
            case .done: name = "delivered"
            case .retry: name = "retry_scheduled"
            case .dead(_, let reason): name = "dead_\(reason.rawValue)"
            }
            let attempt = "attempt \(claim.attempt)"
            try Self.insertAudit(
                connection, at: text, event: claim.event, handler: completion.handler, outcome: name, detail: detail.map { "\(attempt): \($0)" } ?? attempt
            )
        }
    }

    /// Extends the leases of deliveries still running, so that none is claimed a second
    /// time while its handler works (a crash stops the renewals and the lease then expires).
    public func renewLeases(_ deliveryIDs: [Int64], leaseSeconds: Double) async throws {
        let now = self.clock.now()
        try await self.write { connection in
            let lease = now.adding(seconds: leaseSeconds).millisecondsSinceEpoch
            for id in deliveryIDs {
                try connection.execute(
                    "UPDATE deliveries SET lease_until = ?1, next_attempt_at = ?1 WHERE id = ?2 AND state = 'running'",
                    [.integer(lease), .integer(id)]
                )
            }
        }
    }

    private static func insertAudit(_ connection: SQLiteConnection, at: String, event: Event, handler: String?, outcome: String, detail: String?) throws {
        try connection.execute(
            "INSERT INTO audit_log (at, event_seq, event_id, event_type, handler, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [.text(at), .integer(event.seq), .text(event.id), .text(event.type), .text(handler), .text(outcome), .text(detail)]
        )
    }

    /// Makes every delivery of the event with `id` due now, with a fresh attempt budget.
    /// Returns how many deliveries were reset; nil when there is no such event.
    public func replay(eventID id: String) async throws -> Int? {
        let now = self.clock.now()
        return try await self.write { connection in
            guard let seq = try connection.row("SELECT seq FROM events WHERE id = ? ORDER BY seq LIMIT 1", [.text(id)])?.first else {
                return nil
            }
            try connection.execute(
                """
                UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL, dead_reason = NULL, updated_at = ?
                WHERE event_seq = ? AND state != 'running'
                """,
                [.integer(now.millisecondsSinceEpoch), .text(now.description), seq]
            )
            return connection.changes
        }
    }

    /// Makes every dead delivery due now, with a fresh attempt budget; returns how many.
    public func replayDead() async throws -> Int {
        let now = self.clock.now()
        return try await self.write { connection in
            try connection.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, dead_reason = NULL, updated_at = ? WHERE state = 'dead'",
                [.integer(now.millisecondsSinceEpoch), .text(now.description)]
            )
            return connection.changes
        }
    }

    /// Events, newest first, optionally those with a delivery in `state` or of `type`.
    public func listEvents(state: DeliveryState? = nil, type: String? = nil, limit: Int = 50) async throws -> [EventRecord] {
        try await self.read { connection in
            let rows = try connection.query(
                """
                SELECT seq, source, id, type, received_at, payload FROM events e
                WHERE (?1 IS NULL OR type = ?1)
                  AND (?2 IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state = ?2))
                ORDER BY seq DESC LIMIT ?3
                """,
                [.text(type), .text(state?.rawValue), .integer(limit)]
            )
            return try rows.map { try Self.record(connection, row: $0) }
        }
    }

    /// One event by id (the first stored, if several sources used the same id).
    public func eventRecord(id: String) async throws -> EventRecord? {
        try await self.read { connection in
            guard let row = try connection.row("SELECT seq, source, id, type, received_at, payload FROM events WHERE id = ? ORDER BY seq LIMIT 1", [.text(id)]) else {
                return nil
            }
            return try Self.record(connection, row: row)
        }
    }

    private static func record(_ connection: SQLiteConnection, row: [SQLiteValue]) throws -> EventRecord {
        guard case .integer(let seq) = row[0] else { throw SQLiteError(code: 1, message: "event row without seq") }
        let event = Event(
            seq: seq, source: row[1].string ?? "", id: row[2].string ?? "", type: row[3].string ?? "",
            receivedAt: row[4].string ?? "", payload: row[5].string ?? ""
        )
        let deliveries = try connection.query(
            "SELECT id, handler, state, attempts, next_attempt_at, last_error, dead_reason, updated_at FROM deliveries WHERE event_seq = ? ORDER BY handler",
            [.integer(seq)]
        ).map { d in
            DeliveryRecord(
                id: Int64(d[0].int ?? 0), handler: d[1].string ?? "", state: DeliveryState(rawValue: d[2].string ?? "") ?? .pending,
                attempts: d[3].int ?? 0, nextAttemptAt: Timestamp(millisecondsSinceEpoch: Int64(d[4].int ?? 0)),
                lastError: d[5].string, deadReason: d[6].string, updatedAt: d[7].string ?? ""
            )
        }
        return EventRecord(event: event, deliveries: deliveries)
    }

    /// Deliveries waiting or running, and the receive time of the oldest pending one.
    public func queueStatus() async throws -> (depth: Int, oldestPendingMs: Int64?) {
        try await self.read { connection in
            let row = try connection.row("SELECT count(*), min(CASE WHEN state = 'pending' THEN next_attempt_at END) FROM deliveries WHERE state IN ('pending', 'running')")
            let oldest: Int64? = if case .integer(let v) = row?[1] { v } else { nil }
            return (row?[0].int ?? 0, oldest)
        }
    }
}
