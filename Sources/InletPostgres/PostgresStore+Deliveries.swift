package import InletCore
internal import PostgresNIO

/// Events, deliveries and the audit log in PostgreSQL.
extension PostgresStore {
    /// One event and its deliveries, in one statement: the insert does nothing for a
    /// repeated `(source, id)` (it waits for a concurrent insert of the same key to commit,
    /// then yields to it), and the deliveries are planned only for a new row.
    enum InsertEvent: PreparedText {
        static let sql = """
            WITH e AS (
                INSERT INTO events (source, id, type, received_at, payload, headers) VALUES ($1, $2, $3, $4, $5, $8)
                ON CONFLICT (source, id) DO NOTHING RETURNING seq
            ), d AS (
                INSERT INTO deliveries (event_seq, handler, next_attempt_at, created_at, updated_at)
                SELECT e.seq, h, coalesce($6::bigint, inlet_now_ms()), $4, $4 FROM e, unnest($7::text[]) AS h
            ), s AS (
                INSERT INTO event_subjects (subject, event_seq) SELECT DISTINCT subject, e.seq FROM e, unnest($9::text[]) AS subject
            )
            SELECT seq FROM e
            """

        static func bindings(_ event: NewEvent, now: Int64?, text: String) throws -> PostgresBindings {
            try PostgresBindings().with(event.source.rawValue).with(event.id).with(event.type.rawValue).with(text).with(event.payload)
                .with(now).with(event.handlers).with(StoredHeaders.encode(event.headers)).with(event.subjects)
        }
    }

    /// The seq of the stored `(source, id)` (after an insert that found it there). A
    /// statement of its own: the insert's snapshot predates a conflicting row's commit.
    private static func existingSeq(_ event: NewEvent) -> PostgresQuery {
        "SELECT seq FROM events WHERE source = \(event.source.rawValue) AND id = \(event.id)"
    }

    package func appendEvents(_ events: [NewEvent]) async throws -> [AppendResult] {
        let now = self.injectedNow
        let text = self.nowText
        let results: [AppendResult]
        if events.count == 1 {
            let event = events[0]
            if let row = try await self.run(InsertEvent.self, InsertEvent.bindings(event, now: now, text: text)).first {
                results = [AppendResult(seq: try row.decode(Int64.self), eventID: event.id, duplicate: false, handlers: event.handlers)]
            } else {
                results = [try await self.duplicate(event, rows: self.read(Self.existingSeq(event)))]
            }
        } else {
            results = try await self.transaction { connection, logger in
                var results: [AppendResult] = []
                for event in events {
                    if let row = try await connection.run(InsertEvent.self, InsertEvent.bindings(event, now: now, text: text), logger: logger).first {
                        results.append(AppendResult(seq: try row.decode(Int64.self), eventID: event.id, duplicate: false, handlers: event.handlers))
                    } else {
                        results.append(try await self.duplicate(event, rows: connection.query(Self.existingSeq(event), logger: logger).collect()))
                    }
                }
                return results
            }
        }
        self.announce(results.flatMap(\.handlers))
        return results
    }

    private func duplicate(_ event: NewEvent, rows: [PostgresRow]) throws -> AppendResult {
        guard let row = rows.first else {
            throw PostgresStoreError("the event \(event.id) was neither inserted nor found", unavailable: true)
        }
        return AppendResult(seq: try row.decode(Int64.self), eventID: event.id, duplicate: true)
    }

    /// Claims up to `limit` of `handler`'s due (or lease-expired) deliveries in one
    /// statement: `FOR UPDATE SKIP LOCKED` passes over rows another instance is claiming,
    /// so no delivery is claimed twice. Each claim gets a token from one sequence shared by
    /// every instance. Due times and leases are on the database's clock.
    ///
    /// A delivery whose lease expired after `maxAttempts` claims is dead-lettered (with an
    /// audit row) in a transaction of its own; the claim statement leaves it alone.
    enum ClaimDue: PreparedText {
        /// $1 handler, $2 now (NULL: the database's), $3 excluded ids, $4 limit, $5 most
        /// attempts, $6 lease (ms), $7 now as text. Abandoned rows come back with attempts -1;
        /// when nothing is due, one row with attempts -2 says when the next delivery is (seq).
        ///
        /// A claim commits without waiting for its WAL flush (`quick`): a claim that a crash
        /// of PostgreSQL loses leaves the delivery as it was, so it runs again, as after any
        /// lost lease; the outcome is what must be durable, and it is. That takes an fsync off
        /// the path from an event's commit to its handler.
        static let sql = """
            WITH quick AS (
                SELECT set_config('synchronous_commit', 'off', true)
            ), due AS (
                SELECT id, (state = 'running' AND attempts >= $5) AS abandoned FROM deliveries
                WHERE handler = $1 AND state IN ('pending', 'running')
                  AND next_attempt_at <= coalesce($2::bigint, inlet_now_ms()) AND id <> ALL($3::bigint[])
                  AND NOT EXISTS (SELECT 1 FROM handler_pauses WHERE handler = $1)
                ORDER BY next_attempt_at LIMIT $4
                FOR UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE deliveries d SET state = 'running', attempts = d.attempts + 1,
                    lease_until = coalesce($2::bigint, inlet_now_ms()) + $6,
                    next_attempt_at = coalesce($2::bigint, inlet_now_ms()) + $6,
                    lease_token = nextval('lease_tokens'), updated_at = $7
                FROM due WHERE d.id = due.id AND NOT due.abandoned
                RETURNING d.id, d.attempts, d.lease_token, d.event_seq
            )
            SELECT c.id, c.attempts::bigint, c.lease_token, e.seq, e.source, e.id, e.type, e.received_at, e.payload
            FROM claimed c JOIN events e ON e.seq = c.event_seq CROSS JOIN quick
            UNION ALL
            SELECT id, -1, 0, 0, '', '', '', '', '' FROM due WHERE abandoned
            UNION ALL
            SELECT -1, -2, 0, min(next_attempt_at), '', '', '', '', '' FROM deliveries
            WHERE handler = $1 AND state IN ('pending', 'running') AND NOT EXISTS (SELECT 1 FROM due)
              AND NOT EXISTS (SELECT 1 FROM handler_pauses WHERE handler = $1)
            HAVING min(next_attempt_at) IS NOT NULL
            """
    }

    package func claimDue(
        handler: String, limit: Int, leaseSeconds: Double, maxAttempts: Int = .max, excluding: Set<Int64> = []
    ) async throws -> (claims: [Claim], nextDue: Timestamp?) {
        let now = self.injectedNow
        let text = self.nowText
        let leaseMs = Int64(leaseSeconds * 1000)
        let maxAttempts = Int64(min(maxAttempts, Int(Int32.max)))
        let rows = try await self.run(
            ClaimDue.self,
            PostgresBindings().with(handler).with(now).with(Array(excluding)).with(Int64(limit)).with(maxAttempts).with(leaseMs).with(text),
            confirmed: false
        )
        var claims: [Claim] = []
        var abandoned: [Int64] = []
        var nextDue: Timestamp?
        for row in rows {
            let (deliveryID, attempts, token, seq, source, id, type, receivedAt, payload) = try row.decode(
                (Int64, Int64, Int64, Int64, String, String, String, String, String).self
            )
            if attempts == -2 {
                // On the database's clock: a skew with this machine's only moves the next look
                // at the store, which the dispatcher's poll bounds anyway.
                nextDue = Timestamp(millisecondsSinceEpoch: seq)
                continue
            }
            if attempts < 0 {
                abandoned.append(deliveryID)
                continue
            }
            let event = Event(seq: seq, source: source, id: id, type: type, receivedAt: receivedAt, payload: payload)
            claims.append(Claim(deliveryID: deliveryID, token: token, attempt: Int(attempts), event: event))
        }
        if !abandoned.isEmpty {
            try await self.deadLetterAbandoned(abandoned, handler: handler, maxAttempts: maxAttempts, now: now, text: text)
            if claims.isEmpty {
                // Only dead-lettered (rare): when is the next one due, now that they are gone?
                let next = try await self.read(
                    "SELECT min(next_attempt_at) FROM deliveries WHERE handler = \(handler) AND state IN ('pending', 'running')"
                )
                nextDue = try next.first?.decode(Int64?.self).map(Timestamp.init(millisecondsSinceEpoch:))
            }
        }
        return (claims, claims.isEmpty ? nextDue : nil)
    }

    /// Dead-letters deliveries claimed `maxAttempts` times with no outcome, with an audit
    /// row each; rows another instance claimed or finished meanwhile are left alone.
    private func deadLetterAbandoned(_ ids: [Int64], handler: String, maxAttempts: Int64, now: Int64?, text: String) async throws {
        try await self.transaction { connection, logger in
            let rows = try await connection.query(
                """
                SELECT d.id, d.attempts::bigint, e.seq, e.source, e.id, e.type, e.received_at, e.payload
                FROM deliveries d JOIN events e ON e.seq = d.event_seq
                WHERE d.id = ANY(\(ids)::bigint[]) AND d.state = 'running' AND d.attempts >= \(maxAttempts)
                  AND d.next_attempt_at <= coalesce(\(now)::bigint, inlet_now_ms())
                FOR UPDATE OF d SKIP LOCKED
                """,
                logger: logger
            ).collect()
            for row in rows {
                let (deliveryID, attempts, seq, source, id, type, receivedAt, payload) = try row.decode(
                    (Int64, Int64, Int64, String, String, String, String, String).self
                )
                let error = DeliveryOutcome.abandonedError(attempts: Int(attempts))
                let event = Event(seq: seq, source: source, id: id, type: type, receivedAt: receivedAt, payload: payload)
                try await connection.query(
                    """
                    UPDATE deliveries SET state = 'dead', lease_until = NULL, lease_token = NULL, last_error = \(error),
                        dead_reason = \(DeliveryOutcome.DeadReason.exhausted.rawValue), updated_at = \(text),
                        error_key = \(DeadLetterGroup.errorKey(error))
                    WHERE id = \(deliveryID)
                    """,
                    logger: logger
                )
                try await connection.query(
                    Self.insertAudit(at: text, event: event, handler: handler, outcome: "dead_exhausted", detail: error), logger: logger
                )
            }
        }
    }

    private static func insertAudit(at: String, event: Event, handler: String?, outcome: String, detail: String?) -> PostgresQuery {
        """
        INSERT INTO audit_log (at, event_seq, event_id, event_type, handler, outcome, detail)
        VALUES (\(at), \(event.seq), \(event.id), \(event.type), \(handler), \(outcome), \(detail))
        """
    }

    /// Records a batch of outcomes in one statement, fenced by each claim's token: an
    /// outcome counts only while its claim still holds the lease. The audit rows (the
    /// handler's notes, and the outcome's when asked) are written only for the outcomes that
    /// counted, in the same statement. Returns the deliveries whose lease was lost.
    ///
    /// A retry's due time is the outcome's delay from now, added on the database's clock.
    enum Complete: PreparedText {
        /// $1 now (NULL: the database's), $2 now as text, $3-$8 and $17 the outcomes
        /// (delivery, token, state, retry delay in ms, error, dead reason, error key; '' for
        /// none), $9-$16 the audit rows (delivery, token, event seq, event id, type, handler,
        /// outcome, detail), $18-$22 the attempt rows (attempt, instance, start and end in ms,
        /// error excerpt), one per outcome. Audit and attempt rows go by delivery and token: a
        /// stale claim's, beside the current claim's of the same delivery in one batch, are
        /// not written.
        static let sql = """
            WITH c AS (
                SELECT * FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[], $17::text[],
                    $18::bigint[], $19::text[], $20::bigint[], $21::bigint[], $22::text[])
                    WITH ORDINALITY AS c(id, token, state, delay, error, reason, error_key, attempt, instance, started, finished, excerpt, n)
            ), updated AS (
                UPDATE deliveries d SET state = c.state, lease_until = NULL, lease_token = NULL,
                    next_attempt_at = CASE WHEN c.state = 'pending' THEN coalesce($1::bigint, inlet_now_ms()) + c.delay ELSE d.next_attempt_at END,
                    last_error = nullif(c.error, ''), dead_reason = CASE WHEN c.state = 'dead' THEN c.reason ELSE d.dead_reason END,
                    error_key = CASE WHEN c.state = 'dead' THEN c.error_key ELSE d.error_key END,
                    updated_at = $2
                FROM c WHERE d.id = c.id AND d.lease_token = c.token AND d.state = 'running'
                RETURNING d.id, c.token, d.event_seq, d.state, d.next_attempt_at
            ), attempted AS (
                INSERT INTO delivery_attempts (event_seq, delivery_id, attempt, instance, started_at, finished_at, outcome, error, next_attempt_at)
                SELECT u.event_seq, c.id, c.attempt, c.instance, c.started, c.finished,
                    CASE c.state WHEN 'pending' THEN 'retry' ELSE c.state END, nullif(c.excerpt, ''),
                    CASE WHEN u.state = 'pending' THEN u.next_attempt_at END
                FROM c JOIN updated u ON u.id = c.id AND u.token = c.token
                ORDER BY c.n
            ), audited AS (
                INSERT INTO audit_log (at, event_seq, event_id, event_type, handler, outcome, detail)
                SELECT $2, a.seq, a.event_id, a.type, a.handler, a.outcome, nullif(a.detail, '')
                FROM unnest($9::bigint[], $10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
                    WITH ORDINALITY AS a(delivery, token, seq, event_id, type, handler, outcome, detail, n)
                WHERE (a.delivery, a.token) IN (SELECT id, token FROM updated)
                ORDER BY a.n
            )
            SELECT id, token FROM updated
            """
    }

    @discardableResult
    package func complete(_ completions: [Completion]) async throws -> [Int64] {
        guard !completions.isEmpty else { return [] }
        let now = self.injectedNow
        let instantNow = self.textClock.now()
        let text = instantNow.description
        var ids: [Int64] = [], tokens: [Int64] = [], states: [String] = [], delays: [Int64] = [], errors: [String] = [], reasons: [String] = []
        var errorKeys: [String] = [], attempts: [Int64] = [], instances: [String] = [], starts: [Int64] = [], ends: [Int64] = []
        var excerpts: [String] = []
        // Audit rows, keyed by delivery and token.
        var auditDelivery: [Int64] = [], auditToken: [Int64] = [], auditSeq: [Int64] = [], auditEventID: [String] = [], auditType: [String] = []
        var auditHandler: [String] = [], auditOutcome: [String] = [], auditDetail: [String] = []
        for completion in completions {
            let claim = completion.claim
            ids.append(claim.deliveryID)
            tokens.append(claim.token)
            switch completion.outcome {
            case .done:
                states.append("done"); delays.append(0); errors.append(""); reasons.append("")
            case .retry(let at, let error):
                states.append("pending"); delays.append(max(0, at.millisecondsSinceEpoch - instantNow.millisecondsSinceEpoch))
                errors.append(error); reasons.append("")
            case .dead(let error, let reason):
                states.append("dead"); delays.append(0); errors.append(error); reasons.append(reason.rawValue)
            }
            if case .dead(let error, _) = completion.outcome { errorKeys.append(DeadLetterGroup.errorKey(error)) } else { errorKeys.append("") }
            let attempt = completion.attemptRecord(now: instantNow)
            attempts.append(Int64(attempt.attempt)); instances.append(attempt.instance)
            starts.append(attempt.startedAt.millisecondsSinceEpoch); ends.append(attempt.finishedAt.millisecondsSinceEpoch)
            excerpts.append(attempt.error ?? "")
            func audit(_ outcome: String, _ detail: String?) {
                auditDelivery.append(claim.deliveryID); auditToken.append(claim.token); auditSeq.append(claim.event.seq)
                auditEventID.append(claim.event.id)
                auditType.append(claim.event.type); auditHandler.append(completion.handler); auditOutcome.append(outcome)
                auditDetail.append(detail ?? "")
            }
            for note in completion.auditRows { audit(note.outcome, note.detail) }
        }
        let rows = try await self.run(
            Complete.self,
            PostgresBindings().with(now).with(text).with(ids).with(tokens).with(states).with(delays).with(errors).with(reasons)
                .with(auditDelivery).with(auditToken).with(auditSeq).with(auditEventID).with(auditType).with(auditHandler).with(auditOutcome).with(auditDetail)
                .with(errorKeys).with(attempts).with(instances).with(starts).with(ends).with(excerpts),
            patient: true
        )
        // By delivery and token: a stale claim's outcome, beside the current one's in one
        // batch, is lost (and its audit rows with it) although the delivery was updated.
        let recorded = Set(try rows.map { row in
            let (id, token) = try row.decode((Int64, Int64).self)
            return ClaimKey(id: id, token: token)
        })
        return completions.map(\.claim).filter { !recorded.contains(ClaimKey(id: $0.deliveryID, token: $0.token)) }.map(\.deliveryID)
    }

    /// Extends the leases of claims still running, in one statement, fenced like
    /// ``complete(_:)``; returns the deliveries whose lease was already lost.
    enum RenewLeases: PreparedText {
        /// $1 now (NULL: the database's), $2 lease (ms), $3 deliveries, $4 their tokens.
        /// Without waiting for the WAL flush, as claims: a renewal lost in a crash of
        /// PostgreSQL only shortens a lease.
        static let sql = """
            WITH quick AS (
                SELECT set_config('synchronous_commit', 'off', true)
            )
            UPDATE deliveries d SET lease_until = coalesce($1::bigint, inlet_now_ms()) + $2,
                next_attempt_at = coalesce($1::bigint, inlet_now_ms()) + $2
            FROM unnest($3::bigint[], $4::bigint[]) AS c(id, token), quick
            WHERE d.id = c.id AND d.lease_token = c.token AND d.state = 'running'
            RETURNING d.id, c.token
            """
    }

    @discardableResult
    package func renewLeases(_ claims: [Claim], leaseSeconds: Double) async throws -> [Int64] {
        guard !claims.isEmpty else { return [] }
        let now = self.injectedNow
        let leaseMs = Int64(leaseSeconds * 1000)
        let ids = claims.map(\.deliveryID)
        let rows = try await self.run(
            RenewLeases.self, PostgresBindings().with(now).with(leaseMs).with(ids).with(claims.map(\.token)), confirmed: false,
            patient: true
        )
        let renewed = Set(try rows.map { row in
            let (id, token) = try row.decode((Int64, Int64).self)
            return ClaimKey(id: id, token: token)
        })
        return claims.filter { !renewed.contains(ClaimKey(id: $0.deliveryID, token: $0.token)) }.map(\.deliveryID)
    }

    /// The first stored event with the id `$1`, whatever its source: the sources are
    /// found by a loose scan of the UNIQUE (source, id) index (one probe each), then the id
    /// is looked up under each. O(s · log n) for s sources, with no index of its own.
    private static func eventByID(_ id: String) -> PostgresQuery {
        """
        WITH RECURSIVE sources(name) AS (
            SELECT min(source) FROM events
            UNION ALL
            SELECT (SELECT min(source) FROM events WHERE source > sources.name) FROM sources WHERE sources.name IS NOT NULL
        )
        SELECT seq, source, id, type, received_at, payload, headers FROM events
        WHERE source IN (SELECT name FROM sources WHERE name IS NOT NULL) AND id = \(id) ORDER BY seq LIMIT 1
        """
    }

    /// Makes every delivery of the event with `id` (only `handler`'s, when given) due now,
    /// with a fresh attempt budget (running ones are left to finish). Returns how many; nil
    /// when there is no such event.
    package func replay(eventID id: String, handler: String?) async throws -> Int? {
        let now = self.injectedNow
        let text = self.nowText
        let result = try await self.transaction { connection, logger -> (Int, [String])? in
            guard let event = try await connection.query(Self.eventByID(id), logger: logger).collect().first else { return nil }
            let seq = try Self.event(event).seq
            let rows = try await connection.query(
                """
                UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = coalesce(\(now)::bigint, inlet_now_ms()),
                    lease_until = NULL, lease_token = NULL, dead_reason = NULL, error_key = NULL, updated_at = \(text)
                WHERE event_seq = \(seq) AND state <> 'running' AND (\(handler)::text IS NULL OR handler = \(handler)::text)
                RETURNING handler
                """,
                logger: logger
            ).collect()
            return (rows.count, try rows.map { try $0.decode(String.self) })
        }
        guard let (count, handlers) = result else { return nil }
        self.announce(handlers)
        return count
    }

    /// A dead delivery's group key: its error key (rows dead before keys were kept: the
    /// error itself).
    static let deadKey = "coalesce(error_key, last_error, '')"

    /// Makes dead deliveries due now, with a fresh attempt budget: all, `handler`'s, or one
    /// group (`handler` and `errorKey`); returns how many.
    package func replayDead(handler: String?, errorKey: String?) async throws -> Int {
        let now = self.injectedNow
        let rows = try await self.rows(
            """
            WITH replayed AS (
                UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = coalesce(\(now)::bigint, inlet_now_ms()),
                    dead_reason = NULL, error_key = NULL, updated_at = \(self.nowText)
                WHERE state = 'dead' AND (\(handler)::text IS NULL OR handler = \(handler)::text)
                  AND (\(errorKey)::text IS NULL OR \(unescaped: Self.deadKey) = \(errorKey)::text)
                RETURNING handler
            )
            SELECT handler, count(*) FROM replayed GROUP BY handler
            """
        )
        var total = 0
        var handlers: [String] = []
        for row in rows {
            let (handler, count) = try row.decode((String, Int64).self)
            handlers.append(handler)
            total += Int(count)
        }
        self.announce(handlers)
        return total
    }

    /// Deletes up to `limit` old finished events with their deliveries, audit rows,
    /// attempts and subjects, in one statement; `SKIP LOCKED` lets two instances' retention
    /// run side by side.
    package func purgeEvents(receivedBefore cutoff: Timestamp, includingDead: Bool, limit: Int) async throws -> Int {
        let kept = includingDead ? "'pending', 'running'" : "'pending', 'running', 'dead'"
        let rows = try await self.rows(
            """
            WITH old AS (
                SELECT seq FROM events e
                WHERE e.received_at < \(cutoff.description)
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state IN (\(unescaped: kept)))
                ORDER BY seq LIMIT \(Int64(limit))
                FOR UPDATE SKIP LOCKED
            ), audit AS (
                DELETE FROM audit_log WHERE event_seq IN (SELECT seq FROM old)
            ), attempts AS (
                DELETE FROM delivery_attempts WHERE event_seq IN (SELECT seq FROM old)
            ), subjects AS (
                DELETE FROM event_subjects WHERE event_seq IN (SELECT seq FROM old)
            ), gone AS (
                DELETE FROM deliveries WHERE event_seq IN (SELECT seq FROM old)
            ), purged AS (
                DELETE FROM events WHERE seq IN (SELECT seq FROM old) RETURNING seq
            )
            SELECT count(*) FROM purged
            """
        )
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }

    package func eventRecord(id: String) async throws -> EventRecord? {
        guard let row = try await self.read(Self.eventByID(id)).first else { return nil }
        return try await self.records([try Self.eventWithHeaders(row)], history: true).first
    }

    /// The event of a row with the columns `seq, source, id, type, received_at, payload, headers`.
    static func event(_ row: PostgresRow) throws -> Event {
        try Self.eventWithHeaders(row).event
    }

    /// The event and stored headers of a row with the columns `seq, source, id, type,
    /// received_at, payload, headers`.
    static func eventWithHeaders(_ row: PostgresRow) throws -> (event: Event, headers: String?) {
        let (seq, source, id, type, receivedAt, payload, headers) = try row.decode((Int64, String, String, String, String, String, String?).self)
        return (Event(seq: seq, source: source, id: id, type: type, receivedAt: receivedAt, payload: payload), headers)
    }

    /// The events with their deliveries (and, with `history`, their attempts), one
    /// statement each.
    func records(_ events: [(event: Event, headers: String?)], history: Bool = false) async throws -> [EventRecord] {
        guard !events.isEmpty else { return [] }
        let seqs = events.map(\.event.seq)
        var attempts: [Int64: [AttemptRecord]] = [:]
        if history {
            let rows = try await self.read(
                """
                SELECT delivery_id, attempt::bigint, instance, started_at, finished_at, outcome, error, next_attempt_at
                FROM delivery_attempts WHERE event_seq = ANY(\(seqs)::bigint[]) ORDER BY id
                """
            )
            for row in rows {
                let (delivery, attempt, instance, started, finished, outcome, error, next) = try row.decode(
                    (Int64, Int64, String, Int64, Int64, String, String?, Int64?).self
                )
                attempts[delivery, default: []].append(
                    AttemptRecord(
                        deliveryID: delivery, attempt: Int(attempt), instance: instance, startedAt: Timestamp(millisecondsSinceEpoch: started),
                        finishedAt: Timestamp(millisecondsSinceEpoch: finished), outcome: outcome, error: error,
                        nextAttemptAt: next.map(Timestamp.init(millisecondsSinceEpoch:))
                    )
                )
            }
        }
        let rows = try await self.read(
            """
            SELECT event_seq, id, handler, state, attempts::bigint, next_attempt_at, last_error, dead_reason, updated_at
            FROM deliveries WHERE event_seq = ANY(\(seqs)::bigint[]) ORDER BY event_seq, handler
            """
        )
        var deliveries: [Int64: [DeliveryRecord]] = [:]
        for row in rows {
            let (seq, id, handler, state, count, next, lastError, deadReason, updatedAt) = try row.decode(
                (Int64, Int64, String, String, Int64, Int64, String?, String?, String).self
            )
            guard let state = DeliveryState(rawValue: state) else {
                throw PostgresStoreError("delivery \(id) has an unknown state \(state)", unavailable: false)
            }
            deliveries[seq, default: []].append(
                DeliveryRecord(
                    id: id, handler: handler, state: state, attempts: Int(count), nextAttemptAt: Timestamp(millisecondsSinceEpoch: next),
                    lastError: lastError, deadReason: deadReason, updatedAt: updatedAt, attemptHistory: attempts[id] ?? []
                )
            )
        }
        return events.map { EventRecord(event: $0.event, deliveries: deliveries[$0.event.seq] ?? [], headers: StoredHeaders.decode($0.headers)) }
    }

    /// Deliveries pending or running, and the due time of the oldest pending one, across
    /// every instance (O(backlog), through the partial due index).
    package func queueStatus() async throws -> (depth: Int, oldestPendingMs: Int64?) {
        let rows = try await self.read(
            "SELECT count(*), min(next_attempt_at) FILTER (WHERE state = 'pending') FROM deliveries WHERE state IN ('pending', 'running')"
        )
        guard let row = rows.first else { return (0, nil) }
        let (depth, oldest) = try row.decode((Int64, Int64?).self)
        return (Int(depth), oldest)
    }
}

/// A claim as the fencing compares it: the delivery and the token it was claimed under.
private struct ClaimKey: Hashable {
    let id: Int64
    let token: Int64
}
