#!/usr/bin/env python3
"""Query plans and timings of the store's operator-facing queries at scale.

Builds a database with the real schema (`inlet migrate`), fills it with EVENTS events and
two deliveries each (1,000,000 deliveries by default: mostly done, a backlog of pending
and running ones, a few thousand dead), then prints each query's plan and its time.
A query whose plan scans a whole table (`SCAN events`, `SCAN deliveries` without a
partial index) would show in its time: a query over 5 ms is flagged. (A `SCAN events`
newest first with a LIMIT stops after about LIMIT rows.) Run: `Benchmarks/plans.py --binary .build/release/inlet`.
"""
import argparse, os, random, sqlite3, subprocess, sys, tempfile, time

QUERIES = {
    # SQLiteStore.claimDue
    "claim due (audit)": ("""SELECT d.id, d.attempts, d.state, e.seq, e.source, e.id, e.type, e.received_at, e.payload
        FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.handler = ?1 AND d.state IN ('pending', 'running') AND d.next_attempt_at <= ?2
        ORDER BY d.next_attempt_at LIMIT ?3""", ("audit", 2_000_000_000_000, 64)),
    "next due (audit)": ("SELECT min(next_attempt_at) FROM deliveries WHERE handler = ? AND state IN ('pending', 'running')", ("audit",)),
    # SQLiteStore.replay / eventRecord
    "event by id": ("""WITH RECURSIVE sources(name) AS (
            SELECT min(source) FROM events
            UNION ALL
            SELECT (SELECT min(source) FROM events WHERE source > sources.name) FROM sources WHERE sources.name IS NOT NULL)
        SELECT seq, source, id, type, received_at, payload FROM events
        WHERE source IN (SELECT name FROM sources) AND id = ?1 ORDER BY seq LIMIT 1""", ("evt-123456",)),
    "deliveries of an event": ("SELECT id, handler, state, attempts, next_attempt_at, last_error, dead_reason, updated_at FROM deliveries WHERE event_seq = ? ORDER BY handler", (123456,)),
    # SQLiteStore.listEvents
    "events list (no filter)": ("""SELECT seq, source, id, type, received_at, payload FROM events e
        WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state = ?2))
        ORDER BY seq DESC LIMIT ?3""", (None, None, 50)),
    "events list --status done": ("""SELECT seq, source, id, type, received_at, payload FROM events e
        WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state = ?2))
        ORDER BY seq DESC LIMIT ?3""", (None, "done", 50)),
    "events list --status dead": ("""SELECT seq, source, id, type, received_at, payload FROM events WHERE seq IN (
        SELECT DISTINCT event_seq FROM deliveries d INDEXED BY deliveries_dead WHERE d.state = 'dead' AND (?1 IS NULL OR EXISTS (SELECT 1 FROM events t WHERE t.seq = d.event_seq AND t.type = ?1))
        ORDER BY event_seq DESC LIMIT ?3) ORDER BY seq DESC""", (None, "dead", 50)),
    "events list --status pending": ("""SELECT seq, source, id, type, received_at, payload FROM events WHERE seq IN (
        SELECT DISTINCT event_seq FROM deliveries d INDEXED BY deliveries_due WHERE d.state IN ('pending', 'running') AND d.state = ?2 AND (?1 IS NULL OR EXISTS (SELECT 1 FROM events t WHERE t.seq = d.event_seq AND t.type = ?1))
        ORDER BY event_seq DESC LIMIT ?3) ORDER BY seq DESC""", (None, "pending", 50)),
    "events list --type": ("""SELECT seq, source, id, type, received_at, payload FROM events e
        WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state = ?2))
        ORDER BY seq DESC LIMIT ?3""", ("employee.updated", None, 50)),
    # SQLiteStore.queueStatus (oldest pending; the depth is kept in memory)
    "oldest pending": ("""WITH RECURSIVE handlers(name) AS (
            SELECT min(handler) FROM deliveries WHERE state IN ('pending', 'running')
            UNION ALL
            SELECT (SELECT min(handler) FROM deliveries WHERE state IN ('pending', 'running') AND handler > handlers.name)
            FROM handlers WHERE handlers.name IS NOT NULL)
        SELECT (SELECT next_attempt_at FROM deliveries WHERE handler = handlers.name AND state IN ('pending', 'running') AND state = 'pending'
                ORDER BY next_attempt_at LIMIT 1)
        FROM handlers WHERE handlers.name IS NOT NULL""", ()),
    # SQLiteStore.purgeEvents (retention)
    "retention batch": ("""SELECT seq FROM events e
        WHERE e.received_at < ?1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state IN ('pending', 'running', 'dead'))
        ORDER BY seq LIMIT ?2""", ("2026-11-01T00:00:00.000Z", 500)),
    "dead replay (count)": ("SELECT count(*) FROM deliveries WHERE state = 'dead'", ()),
}


def fill(path, events, backlog, dead, old_pending):
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    start = 1_780_000_000_000
    handlers = ["audit", "metadata-sync"]
    rows_e, rows_d = [], []
    dead_seqs = set(random.sample(range(1, events + 1), dead))
    backlog_seqs = set(range(events - backlog + 1, events + 1))
    waiting_seqs = set(random.sample(range(1, events - backlog), old_pending)) - dead_seqs
    for seq in range(1, events + 1):
        at = start + seq * 10
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at / 1000)) + ".000Z"
        kind = random.choice(["employee.created", "employee.updated", "auth0.user.login", "auth0.user.login"])
        rows_e.append((seq, "auth0" if kind == "auth0.user.login" else "productivity", f"evt-{seq}", kind, stamp, "{}"))
        for h in handlers:
            state = "done"
            if seq in backlog_seqs:
                state = "pending" if h == "metadata-sync" else random.choice(["pending", "running"])
            elif seq in dead_seqs and h == "metadata-sync":
                state = "dead"
            elif seq in waiting_seqs and h == "metadata-sync":
                state = "pending"
            rows_d.append((seq, h, state, 1, at, stamp, stamp))
        if len(rows_e) >= 50_000:
            flush(db, rows_e, rows_d)
    flush(db, rows_e, rows_d)
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def flush(db, rows_e, rows_d):
    db.executemany("INSERT INTO events (seq, source, id, type, received_at, payload) VALUES (?, ?, ?, ?, ?, ?)", rows_e)
    db.executemany("INSERT INTO deliveries (event_seq, handler, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows_d)
    rows_e.clear(); rows_d.clear()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/inlet")
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--dead", type=int, default=2_000)
    parser.add_argument("--old-pending", type=int, default=1_000, help="old events whose metadata-sync delivery still waits")
    args = parser.parse_args()
    random.seed(7)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "plans.sqlite")
        subprocess.run([args.binary, "migrate", "--database", path], check=True, stdout=subprocess.DEVNULL)
        began = time.time()
        fill(path, args.events, args.backlog, args.dead, args.old_pending)
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        total = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        print(f"{args.events} events, {total} deliveries ({args.backlog} newest events in the backlog, {args.old_pending} older ones waiting, {args.dead} dead), filled in {time.time() - began:.0f} s")
        print(f"SQLite {sqlite3.sqlite_version}\n")
        flagged = 0
        for name, (sql, params) in QUERIES.items():
            plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params)]
            timings = []
            for _ in range(5):
                t = time.perf_counter()
                db.execute(sql, params).fetchall()
                timings.append(time.perf_counter() - t)
            median = sorted(timings)[2]
            slow = median > 0.005
            flagged += slow
            print(f"{name}: median {median * 1000:.2f} ms{'  <-- slow' if slow else ''}")
            for step in plan:
                print(f"    {step}")
        print(f"\n{flagged} quer{'y' if flagged == 1 else 'ies'} over 5 ms")


if __name__ == "__main__":
    sys.exit(main())
