#!/usr/bin/env python3
"""Crash trials: SIGKILL a real `inlet serve` under load, again and again, and check that
nothing acknowledged is lost and no delivery runs twice at once.

    scripts/crash-trials.py --binary .build/release/inlet --kills 50 --seed 1 [--json-summary FILE]

Black box, Python 3 standard library only. One run:

* starts `inlet serve --listen 127.0.0.1:0` on a temporary database with `audit` and a
  `command` handler (this script, `--handler-run`, which appends `START`/`END` lines to a
  runs log with O_APPEND + fsync and sleeps 0-300 ms between them), short leases;
* load threads (127.0.0.1 only, keep-alive): signed `employee.created` events with unique
  ids, logins with unique auth0Ids, admin replays and resends of acknowledged ids; every
  2xx is appended to a ledger and fsynced before it counts as acknowledged; a timeout or a
  reset after the request was sent counts as unknown;
* kills the server with SIGKILL `--kills` times, at a moment picked by the trial's phase:
  `random` (after U(0.2 s, 3 s) of load), `wal-restart` (the WAL header's salt changed: the
  log started over), `checkpoint` (the database file itself is being written),
  `dispatch` (a START line without its END), `startup` (0-100 ms after the process
  started), `shutdown` (~20 ms after SIGTERM);
* after each kill, on a copy of the database files: `PRAGMA integrity_check` is ok, the
  foreign keys hold, every acknowledged event and login is stored, every event has its
  deliveries; then restarts it (recovery time: start to `/readyz` 200);
* at the end, restarts it without load and waits until no delivery is pending or running,
  stops it with SIGTERM, and checks: every acknowledged event's deliveries are `done` (or
  `dead` with a last error), the runs log has every acknowledged event, no two runs of one
  delivery overlap, and a delivery ran again only after its previous run's server was
  killed, a replay, a run that never ended, or an attempt the server recorded as failed.

Exit status 0 when every check held, 1 when any failed, 2 on a harness error.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

PHASES_FIRST_CYCLE = ["dispatch", "startup", "checkpoint", "shutdown", "wal-restart", "cli", "random"]
HANDLER_SLEEP_MAX = 0.3  # seconds a handler run sleeps at most


# --------------------------------------------------------------------------- handler
def handler_run(runs_log):
    """The `command` handler: START, sleep 0-300 ms, END, each line appended and fsynced."""
    sys.stdin.buffer.read()  # the event JSON; read so the server never blocks on the pipe
    key = "%s:%s" % (os.environ.get("INLET_EVENT_SOURCE", "?"), os.environ.get("INLET_EVENT_ID", "?"))
    attempt = os.environ.get("INLET_DELIVERY_ATTEMPT", "?")
    fd = os.open(runs_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        def line(word):
            # The parent is the inlet process that spawned this run (1 or a subreaper once
            # that process is dead: the run outlived its server).
            os.write(fd, ("%s %s %s %.6f %d %d\n" % (word, key, attempt, time.time(), os.getpid(),
                                                      os.getppid())).encode())
            os.fsync(fd)
        line("START")
        time.sleep(random.uniform(0, HANDLER_SLEEP_MAX))
        line("END")
    finally:
        os.close(fd)
    return 0


# --------------------------------------------------------------------------- helpers
def log(message):
    print("crash-trials: %s" % message, flush=True)


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()

    def passed(self):
        return time.monotonic() >= self.end


def poll(predicate, seconds, interval=0.01):
    """Calls predicate until it returns a true value or the deadline passes; returns it."""
    deadline = Deadline(seconds)
    while True:
        value = predicate()
        if value or deadline.passed():
            return value
        time.sleep(min(interval, max(0.0, deadline.left())))


class Ledger:
    """Acknowledged ids, appended to a file and fsynced before they count."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.lock = threading.Lock()
        self.events = {}  # productivity id -> ack time
        self.logins = {}  # auth0Id -> ack time
        self.replays = {}  # productivity id -> [send times of acknowledged replays]
        self.resends = 0
        self.dedupe_violations = []  # resent acknowledged ids answered as new

    def record(self, kind, ident, status, extra=""):
        with self.lock:
            os.write(self.fd, ("%s %s %d %.6f %s\n" % (kind, ident, status, time.time(), extra)).encode())
            os.fsync(self.fd)

    def close(self):
        os.close(self.fd)


# --------------------------------------------------------------------------- the server
class Server:
    def __init__(self, binary, workdir, config, database, env):
        self.binary = binary
        self.workdir = workdir
        self.config = config
        self.database = database
        self.env = env
        self.log_path = os.path.join(workdir, "inlet.log")
        self.proc = None
        self.port = None
        self.started_at = None

    def spawn(self):
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        out = open(self.log_path, "ab")
        try:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--config", self.config, "--database", self.database, "--listen", "127.0.0.1:0"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=self.env,
                cwd=self.workdir, start_new_session=True,
            )
        finally:
            out.close()
        self.port = None
        self.log_offset = offset

    def log_tail(self, lines=8):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            return " | ".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def find_port(self, seconds):
        """The port from the log line naming the address (never guessed)."""
        def read():
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                text = f.read().decode("utf-8", "replace")
            match = re.search(r"address=127\.0\.0\.1:(\d+)", text)
            if match:
                return int(match.group(1))
            if not self.alive():
                return -1
            return None
        port = poll(read, seconds, 0.005)
        if port and port > 0:
            self.port = port
        return self.port

    def wait_ready(self, seconds):
        """Polls /readyz until 200; returns milliseconds since spawn, or None."""
        deadline = Deadline(seconds)
        if self.find_port(seconds) is None:
            return None
        while not deadline.passed():
            if not self.alive():
                return None
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=max(0.1, min(2, deadline.left())))
                conn.request("GET", "/readyz")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return (time.monotonic() - self.started_at) * 1000
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(min(0.01, max(0.0, deadline.left())))
        return None

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def reap(self, seconds=30):
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def stop_hard(self):
        """Every path ends here: the process group gets SIGKILL and is reaped."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.kill()
            self.reap(10)


# --------------------------------------------------------------------------- load
class Load:
    """Bounded load threads against whatever port the server has now."""

    def __init__(self, ledger, tokens, webhook_key, rng_seed, productivity_threads=2, login_threads=2, rate=40.0):
        self.ledger = ledger
        self.tokens = tokens
        self.webhook_key = webhook_key
        self.port = None
        self.trial = 0
        self.active = threading.Event()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.inflight = 0
        self.counter = 0
        self.unknown = {"event": 0, "login": 0, "replay": 0, "resend": 0}
        self.unknown_event_ids = []
        self.refused = 0
        self.errors = []  # unexpected statuses
        self.sent = 0
        self.rate = rate  # productivity events a second, over all productivity threads
        self.threads = []
        self.rng = random.Random(rng_seed)
        kinds = ["event"] * productivity_threads + ["login"] * login_threads + ["admin"]
        for index, kind in enumerate(kinds):
            thread = threading.Thread(target=self.worker, args=(kind, index, self.rng.random()), daemon=True)
            self.threads.append(thread)

    def start(self):
        for thread in self.threads:
            thread.start()

    def next_id(self, prefix):
        with self.lock:
            self.counter += 1
            return "%s-t%d-%d" % (prefix, self.trial, self.counter)

    def pause(self, seconds=15):
        """No new requests; waits until every request in flight has ended."""
        self.active.clear()
        return poll(lambda: self.inflight == 0, seconds, 0.005)

    def shutdown(self):
        self.active.clear()
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def sign(self, ident, body):
        timestamp = str(int(time.time()))
        mac = hmac.new(self.webhook_key, ("%s.%s." % (ident, timestamp)).encode() + body, hashlib.sha256).digest()
        return timestamp, "v1," + base64.b64encode(mac).decode()

    def worker(self, kind, index, seed):
        rng = random.Random(seed)
        conn = None
        conn_port = None
        # Seconds between requests of this thread: the event threads share `rate`; the
        # admin thread replays or resends about 5 times a second; logins are not paced.
        interval = 2 / self.rate if kind == "event" else 0.2
        while not self.stopping.is_set():
            if not self.active.wait(timeout=0.2):
                continue
            port = self.port
            if port is None:
                self.active.wait(timeout=0.01)
                time.sleep(0.005)
                continue
            if conn is None or conn_port != port:
                if conn is not None:
                    conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn_port = port
                try:
                    conn.connect()
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    # Nothing was sent: the server is down or not listening yet.
                    conn.close()
                    conn = None
                    with self.lock:
                        self.refused += 1
                    time.sleep(0.005)
                    continue
            request = self.make_request(kind, rng)
            if request is None:
                time.sleep(0.01)
                continue
            what, ident, method, path, headers, body = request
            with self.lock:
                self.inflight += 1
            sent_at = time.time()
            try:
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException):
                    # Sent, or partly: the server may or may not have stored it.
                    conn.close()
                    conn = None
                    with self.lock:
                        self.unknown[what] += 1
                        if what == "event":
                            self.unknown_event_ids.append(ident)
                    continue
                self.sent += 1
                self.record(what, ident, response.status, data, sent_at)
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            finally:
                with self.lock:
                    self.inflight -= 1
            if kind == "event" or kind == "admin":
                time.sleep(rng.uniform(0, 2 * interval))

    def make_request(self, kind, rng):
        if kind == "event":
            ident = self.next_id("evt")
            return self.event_request("event", ident)
        if kind == "login":
            ident = "auth0|" + self.next_id("login")
            body = json.dumps({"auth0Id": ident, "email": "%s@example.com" % ident.split("|")[1],
                               "name": "Crash Trial", "emailVerified": rng.random() < 0.5,
                               "loginsCount": rng.randint(1, 50), "ip": "127.0.0.1"}).encode()
            headers = {"Content-Type": "application/json", "Authorization": "Bearer " + self.tokens["internal"]}
            return "login", ident, "POST", "/internal/auth/sync-user", headers, body
        # admin: a replay of an acknowledged event, or a resend of one (dedupe)
        with self.ledger.lock:
            if not self.ledger.events:
                return None
            acked = list(self.ledger.events)
        ident = rng.choice(acked[-200:])
        if rng.random() < 0.5:
            headers = {"Authorization": "Bearer " + self.tokens["admin"], "Content-Length": "0"}
            return "replay", ident, "POST", "/admin/events/%s/replay" % ident, headers, b""
        return self.event_request("resend", ident)

    def event_request(self, what, ident):
        body = json.dumps({"type": "employee.created", "occurred_at": "2026-11-30T12:00:00Z",
                           "data": {"employee_id": "EMP-" + ident, "name": "Crash Trial",
                                    "email": "%s@example.com" % ident, "department": "Production"}}).encode()
        timestamp, signature = self.sign(ident, body)
        headers = {"Content-Type": "application/json", "webhook-id": ident, "webhook-timestamp": timestamp,
                   "webhook-signature": signature}
        return what, ident, "POST", "/hooks/productivity", headers, body

    def record(self, what, ident, status, data, sent_at):
        ok = 200 <= status < 300
        if what == "event":
            if status == 202:
                self.ledger.record("P", ident, status)
                with self.ledger.lock:
                    self.ledger.events[ident] = time.time()
                return
        elif what == "login":
            if status == 200:
                self.ledger.record("L", ident, status)
                with self.ledger.lock:
                    self.ledger.logins[ident] = time.time()
                return
        elif what == "replay":
            if status == 202:
                self.ledger.record("R", ident, status)
                with self.ledger.lock:
                    self.ledger.replays.setdefault(ident, []).append(sent_at)
                return
        elif what == "resend":
            if ok:
                duplicate = None
                try:
                    duplicate = json.loads(data).get("duplicate")
                except ValueError:
                    pass
                self.ledger.record("D", ident, status, "duplicate=%s" % duplicate)
                with self.ledger.lock:
                    self.ledger.resends += 1
                    if status != 200 or duplicate is not True:
                        self.ledger.dedupe_violations.append((ident, status, duplicate))
                return
        # 503 while the store starts or stops is allowed; anything else is reported.
        with self.lock:
            if status != 503 and len(self.errors) < 50:
                self.errors.append((what, ident, status, data[:200].decode("utf-8", "replace")))


# --------------------------------------------------------------------------- kill moments
class WALWatcher:
    """Polls the WAL header (checkpoint sequence and salts) and the database file."""

    def __init__(self, database):
        self.database = database
        self.wal = database + "-wal"

    def wal_header(self):
        try:
            with open(self.wal, "rb") as f:
                header = f.read(24)
            size = os.path.getsize(self.wal)
        except OSError:
            return None, 0
        if len(header) < 24:
            return None, size
        return header[12:24], size

    def db_signature(self):
        try:
            st = os.stat(self.database)
            return (st.st_size, st.st_mtime_ns)
        except OSError:
            return None

    def wait_wal_restart(self, seconds):
        first, first_size = self.wal_header()
        last_size = first_size
        deadline = Deadline(seconds)
        while not deadline.passed():
            header, size = self.wal_header()
            if first is not None and header is not None and header != first:
                return "wal header changed (restart)"
            if size < last_size:
                return "wal shrank %d -> %d bytes" % (last_size, size)
            if first is None:
                first = header
            last_size = size
            time.sleep(0.001)
        return None

    def wait_db_write(self, seconds):
        first = self.db_signature()
        deadline = Deadline(seconds)
        while not deadline.passed():
            if self.db_signature() != first:
                return "database file written (checkpoint)"
            time.sleep(0.001)
        return None


class RunsLog:
    """The command handler's runs log, read incrementally."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""
        self.open = {}  # pid -> start time

    def advance(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        for raw in lines:
            parts = raw.decode("utf-8", "replace").split()
            if len(parts) != 6:
                continue
            if parts[0] == "START":
                self.open[parts[4]] = float(parts[3])
            elif parts[0] == "END":
                self.open.pop(parts[4], None)

    def wait_running(self, seconds, stale_after):
        deadline = Deadline(seconds)
        while not deadline.passed():
            self.advance()
            # A run killed at its timeout never writes END: only recent STARTs count.
            running = sum(1 for start in self.open.values() if start > time.time() - stale_after)
            if running:
                return "%d handler runs without END" % running
            time.sleep(0.002)
        return None


def parse_runs(path):
    """[(key, attempt, start, end or None, pid, parent pid at START)] from the runs log."""
    starts = {}
    ended = {}
    order = []
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            for raw in f:
                parts = raw.split()
                if len(parts) != 6:
                    continue
                word, key, attempt, t, pid, ppid = parts
                if word == "START":
                    starts[(pid, key)] = (attempt, float(t), int(ppid))
                    order.append((pid, key))
                elif word == "END":
                    ended[(pid, key)] = float(t)
    except FileNotFoundError:
        return []
    return [(key, starts[(pid, key)][0], starts[(pid, key)][1], ended.get((pid, key)), pid, starts[(pid, key)][2])
            for pid, key in order]


# --------------------------------------------------------------------------- checks
def copy_database(database, into):
    os.makedirs(into, exist_ok=True)
    target = os.path.join(into, "copy.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(target + suffix):
            os.unlink(target + suffix)
        if os.path.exists(database + suffix):
            shutil.copyfile(database + suffix, target + suffix)
    return target


def check_database(path, ledger, command_types=("employee.",)):
    """Checks of one stopped database (a copy): returns (failures, facts)."""
    failures = []
    facts = {}
    conn = sqlite3.connect(path, timeout=10)
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        facts["integrity"] = integrity[0] if len(integrity) == 1 else integrity[:5]
        if integrity != ["ok"]:
            failures.append("integrity_check: %s" % integrity[:5])
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            failures.append("foreign_key_check: %d rows, e.g. %s" % (len(fk), fk[:3]))
        stored = {row[0] for row in conn.execute("SELECT id FROM events WHERE source = 'productivity'")}
        users = {row[0] for row in conn.execute("SELECT auth0_id FROM users")}
        with ledger.lock:
            acked_events = list(ledger.events)
            acked_logins = list(ledger.logins)
        lost_events = [i for i in acked_events if i not in stored]
        lost_logins = [i for i in acked_logins if i not in users]
        facts["lost"] = len(lost_events) + len(lost_logins)
        if lost_events:
            failures.append("%d acknowledged events not stored, e.g. %s" % (len(lost_events), lost_events[:5]))
        if lost_logins:
            failures.append("%d acknowledged logins without a user, e.g. %s" % (len(lost_logins), lost_logins[:5]))
        # Atomicity: the event and its deliveries were one transaction.
        no_audit = conn.execute(
            "SELECT count(*) FROM events e WHERE NOT EXISTS "
            "(SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.handler = 'audit')").fetchone()[0]
        no_command = conn.execute(
            "SELECT count(*) FROM events e WHERE e.source = 'productivity' AND e.type LIKE 'employee.%' AND NOT EXISTS "
            "(SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.handler = 'command')").fetchone()[0]
        if no_audit or no_command:
            failures.append("events without their deliveries: %d without audit, %d without command" % (no_audit, no_command))
        login_events = conn.execute("SELECT count(DISTINCT id) FROM events WHERE type = 'auth0.user.login'").fetchone()[0]
        facts["login_events"] = login_events
        # State sanity (reported; see the summary's `anomalies`).
        facts["anomalies"] = {
            "running_without_lease": conn.execute(
                "SELECT count(*) FROM deliveries WHERE state = 'running' AND lease_until IS NULL").fetchone()[0],
            "finished_without_attempt": conn.execute(
                "SELECT count(*) FROM deliveries WHERE state IN ('done', 'dead') AND attempts < 1").fetchone()[0],
        }
        facts["deliveries"] = dict(conn.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())
        facts["events"] = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()
    return failures, facts


def failed_attempts(path):
    """(event id, attempt) of every command run the server itself recorded as failed
    (timed out, retried, dead): a run after one of those is no surprise."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        rows = conn.execute("SELECT event_id, outcome, detail FROM audit_log WHERE handler = 'command' "
                            "AND outcome != 'delivered'").fetchall()
    finally:
        conn.close()
    failed = set()
    for ident, _, detail in rows:
        match = re.match(r"attempt (\d+)", detail or "")
        if match:
            failed.add((ident, match.group(1)))
    return failed


def check_runs(runs, instances, replays, failed, ledger_events, stopped_at, handler_timeout):
    """Overlaps and unexplained repeats of the command handler's runs.

    `instances`: pid of every `inlet serve` started -> the time of its SIGKILL (None if it
    was stopped only by SIGTERM). A run records its parent's pid at START, so it is known
    which server ran it, and whether that server was dead already (the run is an orphan:
    SIGKILL does not reach the handler's own process group)."""
    by_key = {}
    for key, attempt, start, end, pid, ppid in runs:
        by_key.setdefault(key, []).append((start, end, attempt, pid, ppid))

    def bound(start, end):
        # A run that never wrote END was killed at its timeout (or crashed).
        return end if end is not None else min(start + handler_timeout + 0.5, stopped_at)

    def cut_by_kill(run):
        start, end, _, _, ppid = run
        if ppid not in instances:
            return True  # its server was dead before START
        killed = instances[ppid]
        # Its server (which spawned it, so was alive then) was killed before it ended or soon
        # after: its outcome may not have been committed.
        return killed is not None and killed <= (end or start) + handler_timeout + 3

    overlaps = []
    repeats = {"explained": 0, "unexplained": []}
    for key, items in by_key.items():
        items.sort()
        latest_end = None
        latest = None
        for index, run in enumerate(items):
            start, end, attempt, pid, ppid = run
            if latest_end is not None and start < latest_end:
                overlaps.append({"delivery": key,
                                 "first": dict(zip(("start", "end", "attempt", "pid", "server"), latest)),
                                 "second": dict(zip(("start", "end", "attempt", "pid", "server"), run))})
            if index > 0:
                previous = items[index - 1]
                ident = key.split(":", 1)[1]
                replayed = any(previous[0] - 1 <= r <= start for r in replays.get(ident, []))
                reported_failed = (ident, previous[2]) in failed
                if previous[1] is None or cut_by_kill(previous) or replayed or reported_failed:
                    repeats["explained"] += 1
                elif len(repeats["unexplained"]) < 20:
                    repeats["unexplained"].append({"delivery": key, "previous": previous, "again": run})
                else:
                    repeats["unexplained"].append(None)
            this_end = bound(start, end)
            if latest_end is None or this_end > latest_end:
                latest_end = this_end
                latest = run
    ran = {key.split(":", 1)[1] for key in by_key if key.startswith("productivity:")}
    never_ran = [i for i in ledger_events if i not in ran]
    return overlaps, repeats, never_ran


def pending_count(database):
    conn = sqlite3.connect(database, timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM deliveries WHERE state IN ('pending', 'running')").fetchone()[0]
    finally:
        conn.close()


def final_deliveries(path, ledger):
    conn = sqlite3.connect(path, timeout=10)
    failures = []
    try:
        rows = conn.execute(
            "SELECT e.id, d.handler, d.state, d.last_error, d.dead_reason FROM deliveries d "
            "JOIN events e ON e.seq = d.event_seq WHERE e.source = 'productivity'").fetchall()
        by_event = {}
        for ident, handler, state, last_error, dead_reason in rows:
            by_event.setdefault(ident, []).append((handler, state, last_error, dead_reason))
        unfinished = conn.execute("SELECT handler, state, count(*) FROM deliveries WHERE state IN ('pending', 'running') "
                                  "GROUP BY handler, state").fetchall()
        dead = conn.execute("SELECT handler, dead_reason, last_error FROM deliveries WHERE state = 'dead' LIMIT 5").fetchall()
        dead_count = conn.execute("SELECT count(*) FROM deliveries WHERE state = 'dead'").fetchone()[0]
        audited = {row[0] for row in conn.execute(
            "SELECT DISTINCT event_id FROM audit_log WHERE handler = 'audit' AND outcome = 'received'")}
        delivered = {row[0] for row in conn.execute(
            "SELECT DISTINCT event_id FROM audit_log WHERE handler = 'command' AND outcome = 'delivered'")}
        dead_without_reason = conn.execute(
            "SELECT count(*) FROM deliveries WHERE state = 'dead' AND (last_error IS NULL OR last_error = '')").fetchone()[0]
    finally:
        conn.close()
    with ledger.lock:
        acked = list(ledger.events)
    bad = []
    for ident in acked:
        handlers = {h: (s, e) for h, s, e, _ in by_event.get(ident, [])}
        for handler in ("audit", "command"):
            state, error = handlers.get(handler, (None, None))
            if state == "done" or (state == "dead" and error):
                continue
            bad.append((ident, handler, state))
    # The server's own run records: the audit row, and the command's `delivered` outcome.
    no_record = [(i, h) for i in acked for h, seen in (("audit", audited), ("command", delivered)) if i not in seen
                 and not any(x[0] == h and x[1] == "dead" for x in by_event.get(i, []))]
    if no_record:
        failures.append("%d acknowledged deliveries without their run record in audit_log, e.g. %s" % (
            len(no_record), no_record[:5]))
    if bad:
        failures.append("%d acknowledged deliveries not done (or dead with a reason), e.g. %s" % (len(bad), bad[:5]))
    if unfinished:
        failures.append("deliveries still pending or running after the drain: %s" % unfinished)
    if dead_without_reason:
        failures.append("%d dead deliveries without a last error" % dead_without_reason)
    return failures, {"dead": dead_count, "dead_examples": dead}


def run_cli(server, seconds):
    """`inlet events list` and `inlet replay --dead` in a loop against the live database:
    a second process that reads, writes and checkpoints the same file (review C1, M2, H2)."""
    deadline = Deadline(seconds)
    runs = 0
    failures = 0
    commands = [["events", "list", "--limit", "5"], ["replay", "--dead"]]
    while not deadline.passed() and runs < 50:
        command = commands[runs % 2]
        try:
            result = subprocess.run([server.binary] + command + ["--config", server.config, "--database", server.database],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    env=server.env, cwd=server.workdir, timeout=30)
            if result.returncode != 0:
                failures += 1
        except subprocess.TimeoutExpired:
            failures += 1
        runs += 1
    return "%d CLI runs, %d failed" % (runs, failures)


# --------------------------------------------------------------------------- the run
def phase_schedule(kills, rng):
    phases = []
    cycle = list(PHASES_FIRST_CYCLE)
    while len(phases) < kills:
        phases.extend(cycle)
        cycle = list(PHASES_FIRST_CYCLE)
        rng.shuffle(cycle)
    return phases[:kills]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", help="the inlet executable (a release build for the real figures)")
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json-summary", help="write the summary here too")
    parser.add_argument("--workdir", help="keep the database, logs and ledger here (default: a temporary folder, "
                                          "kept only when a check fails)")
    parser.add_argument("--lease-seconds", type=float, default=4)
    parser.add_argument("--handler-timeout", type=float, default=2)
    parser.add_argument("--event-rate", type=float, default=40, help="signed events a second while load runs")
    parser.add_argument("--drain-seconds", type=float, help="deadline of the final drain (default 60 + 6 a kill)")
    parser.add_argument("--handler-run", metavar="RUNS_LOG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.handler_run:
        return handler_run(args.handler_run)
    if not args.binary:
        parser.error("--binary is required")
    if args.drain_seconds is None:
        args.drain_seconds = 60 + 6 * args.kills
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        log("no executable at %s (build it first)" % binary)
        return 2
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    workdir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="inlet-crash-")
    os.makedirs(workdir, exist_ok=True)
    log("seed %d, %d kills, binary %s, folder %s" % (seed, args.kills, binary, workdir))

    database = os.path.join(workdir, "db", "inlet.sqlite")
    os.makedirs(os.path.dirname(database), exist_ok=True)
    runs_path = os.path.join(workdir, "runs.log")
    config_path = os.path.join(workdir, "inlet.json")
    handler_options = {"lease_seconds": args.lease_seconds, "max_attempts": 1000,
                       "backoff_base_seconds": 0.2, "backoff_cap_seconds": 1}
    config = {"handlers": {
        "audit": dict(handler_options, enabled=True),
        "command": dict(handler_options, program=sys.executable,
                        arguments=["-S", os.path.abspath(__file__), "--handler-run", runs_path],
                        subscriptions=["employee.*"], timeout_seconds=args.handler_timeout, concurrency=8),
        "provisioning": {"enabled": False},
        "metadata-sync": {"enabled": False},
    }}
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
    tokens = {"internal": secrets.token_urlsafe(32), "admin": secrets.token_urlsafe(32)}
    webhook_key = secrets.token_bytes(32)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir, "LANG": "C.UTF-8",
           "INTERNAL_API_TOKEN": tokens["internal"], "ADMIN_API_TOKEN": tokens["admin"],
           "PRODUCTIVITY_WEBHOOK_SECRET": "whsec_" + base64.b64encode(webhook_key).decode(),
           "INLET_LOG_LEVEL": "info", "INLET_AUTH_RATE_LIMIT": "0"}

    def terminated(signum, frame):
        raise SystemExit(128 + signum)  # runs the finally below, which stops the server
    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGHUP, terminated)

    ledger = Ledger(os.path.join(workdir, "ledger.txt"))
    server = Server(binary, workdir, config_path, database, env)
    load = Load(ledger, tokens, webhook_key, rng.random(), rate=args.event_rate)
    watcher = WALWatcher(database)
    runs_log = RunsLog(runs_path)
    kills = []  # wall-clock times of every SIGKILL
    instances = {}  # pid of every server started -> the time of its SIGKILL
    trials = []
    failures = []
    recoveries = []
    began = time.monotonic()
    phases = phase_schedule(args.kills, rng)
    summary = {}
    try:
        load.start()
        for number, phase in enumerate(phases, 1):
            load.trial = number
            trial = {"trial": number, "phase": phase}
            server.spawn()
            instances[server.proc.pid] = None
            if phase == "startup":
                load.active.set()
                time.sleep(rng.uniform(0, 0.1))  # the kill moment itself, not a wait for something
                trial["alive_at_kill"] = server.alive()
                kills.append(time.time())
                server.kill()
                instances[server.proc.pid] = trial["killed_at"] = kills[-1]
                trial["triggered"] = True
            else:
                recovery = server.wait_ready(120)
                if recovery is None:
                    failures.append("trial %d: not ready within 120 s after a start (exit %s): %s" % (
                        number, server.proc.poll(), server.log_tail()))
                    trial["recovery_ms"] = None
                    trials.append(trial)
                    break
                trial["recovery_ms"] = round(recovery, 1)
                recoveries.append(recovery)
                load.port = server.port
                load.active.set()
                triggered = True
                warmup = rng.uniform(0.2, 3.0) if phase in ("random", "shutdown") else rng.uniform(0.2, 1.0)
                time.sleep(warmup)  # load runs for this long: the kill moment, not a wait for something
                armed = time.monotonic()
                if phase == "cli":
                    triggered = run_cli(server, rng.uniform(1.0, 3.0))
                elif phase == "wal-restart":
                    triggered = watcher.wait_wal_restart(6)
                elif phase == "checkpoint":
                    triggered = watcher.wait_db_write(6)
                elif phase == "dispatch":
                    triggered = runs_log.wait_running(6, args.handler_timeout + 0.5)
                trial["triggered"] = triggered
                if phase in ("cli", "wal-restart", "checkpoint", "dispatch"):
                    trial["trigger_ms"] = round((time.monotonic() - armed) * 1000, 1)
                if phase == "shutdown":
                    server.kill(signal.SIGTERM)
                    time.sleep(rng.uniform(0.01, 0.03))  # ~20 ms into the graceful stop
                    trial["alive_at_kill"] = server.alive()
                kills.append(time.time())
                server.kill()
                instances[server.proc.pid] = trial["killed_at"] = kills[-1]
                _, trial["wal_bytes_at_kill"] = watcher.wal_header()
            status = server.reap(30)
            trial["exit"] = status
            load.port = None
            if not load.pause(15):
                failures.append("trial %d: requests still in flight 15 s after the kill" % number)
            copy = copy_database(database, os.path.join(workdir, "check"))
            trial_failures, facts = check_database(copy, ledger)
            trial.update(acknowledged=len(ledger.events) + len(ledger.logins), lost=facts.get("lost"),
                         integrity=facts.get("integrity"), anomalies=facts.get("anomalies"))
            for failure in trial_failures:
                failures.append("trial %d (%s): %s" % (number, phase, failure))
            trials.append(trial)
            trigger = trial.get("triggered")
            log("trial %d/%d %-11s recovery %s ms, %d acknowledged, lost %s, integrity %s%s; kill: %s" % (
                number, len(phases), phase, trial.get("recovery_ms", "-"), trial["acknowledged"], facts.get("lost"),
                facts.get("integrity"), "" if not trial_failures else " FAILED",
                trigger if isinstance(trigger, str) else ("at its moment" if trigger else "moment not seen, killed at the deadline")))

        # The drain: no load, until nothing is pending or running.
        load.shutdown()
        drain = {}
        server.spawn()
        instances[server.proc.pid] = None
        recovery = server.wait_ready(120)
        if recovery is None:
            failures.append("drain: not ready within 120 s (exit %s): %s" % (server.proc.poll(), server.log_tail()))
        else:
            recoveries.append(recovery)
            drain_began = time.monotonic()
            left = poll(lambda: pending_count(database) == 0, args.drain_seconds, 0.2)
            drain["seconds"] = round(time.monotonic() - drain_began, 1)
            if not left:
                failures.append("drain: deliveries still pending or running after %s s" % args.drain_seconds)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
                conn.request("GET", "/metrics")
                text = conn.getresponse().read().decode()
                conn.close()
                match = re.search(r"^inlet_queue_depth(?:\{[^}]*\})? (\S+)", text, re.M)
                drain["queue_depth"] = float(match.group(1)) if match else None
            except (OSError, http.client.HTTPException) as error:
                drain["queue_depth"] = "unreadable: %s" % error
            server.kill(signal.SIGTERM)
            drain["exit"] = server.reap(60)
            if drain["exit"] != 0:
                failures.append("drain: SIGTERM ended inlet with status %s" % drain["exit"])
            wal = database + "-wal"
            drain["wal_bytes_after_sigterm"] = os.path.getsize(wal) if os.path.exists(wal) else 0
        stopped_at = time.time()
        # Runs that outlived their server (a SIGKILL does not reach the handler's own
        # process group) write their END within HANDLER_SLEEP_MAX plus start-up.
        poll(lambda: (runs_log.advance(), not any(t > stopped_at - args.handler_timeout - 0.5
                                                   for t in runs_log.open.values()))[1], 10, 0.05)

        final_failures, facts = check_database(database, ledger)
        failures.extend("final: %s" % f for f in final_failures)
        delivery_failures, delivery_facts = final_deliveries(database, ledger)
        failures.extend("final: %s" % f for f in delivery_failures)
        with ledger.lock:
            acked_events = list(ledger.events)
            replays = {k: list(v) for k, v in ledger.replays.items()}
        runs = parse_runs(runs_path)
        overlaps, repeats, never_ran = check_runs(runs, instances, replays, failed_attempts(database), acked_events, stopped_at, args.handler_timeout)
        if overlaps:
            failures.append("final: %d overlapping runs of one delivery, e.g. %s" % (len(overlaps), overlaps[:3]))
        if never_ran:
            failures.append("final: %d acknowledged events never reached the command handler, e.g. %s" % (len(never_ran), never_ran[:5]))
        unexplained = len(repeats["unexplained"])
        if unexplained:
            failures.append("final: %d repeated runs with no kill, replay or unfinished run before them, e.g. %s" % (
                unexplained, [r for r in repeats["unexplained"] if r][:3]))
        if ledger.dedupe_violations:
            failures.append("final: %d resent acknowledged ids not answered as duplicates, e.g. %s" % (
                len(ledger.dedupe_violations), ledger.dedupe_violations[:3]))
        unknown_stored = 0
        if load.unknown_event_ids:
            conn = sqlite3.connect(database)
            try:
                stored = {row[0] for row in conn.execute("SELECT id FROM events WHERE source = 'productivity'")}
            finally:
                conn.close()
            unknown_stored = sum(1 for i in load.unknown_event_ids if i in stored)
        summary = {
            "seed": seed,
            "binary": binary,
            "kills": sum(1 for t in trials if "exit" in t),
            "phases": {p: sum(1 for t in trials if t["phase"] == p) for p in PHASES_FIRST_CYCLE},
            "triggered": {p: sum(1 for t in trials if t["phase"] == p and t.get("triggered")) for p in PHASES_FIRST_CYCLE},
            "acknowledged": {"events": len(ledger.events), "logins": len(ledger.logins),
                             "replays": sum(len(v) for v in ledger.replays.values()), "resends": ledger.resends},
            "unknown": dict(load.unknown, events_stored=unknown_stored),
            "refused_connections": load.refused,
            "unexpected_statuses": load.errors[:10],
            "lost": max([t.get("lost") or 0 for t in trials] + [facts.get("lost") or 0]),
            "integrity_failures": sum(1 for t in trials if t.get("integrity") != "ok") + (facts.get("integrity") != "ok"),
            "overlaps": len(overlaps),
            "overlap_examples": overlaps[:5],
            "runs": len(runs),
            "runs_without_end": sum(1 for r in runs if r[3] is None),
            # Runs still going after their server's SIGKILL (it does not reach the handler's
            # process group): they finish on their own, unsupervised.
            "runs_outliving_their_server": sum(
                1 for r in runs if r[5] not in instances
                or (instances[r[5]] is not None and r[3] is not None and r[3] > instances[r[5]])),
            "repeats": {"explained": repeats["explained"], "unexplained": unexplained},
            "never_ran": len(never_ran),
            "recovery_ms": {"max": round(max(recoveries), 1) if recoveries else None,
                            "median": round(sorted(recoveries)[len(recoveries) // 2], 1) if recoveries else None},
            "drain": drain,
            "final_deliveries": facts.get("deliveries"),
            "dead": delivery_facts.get("dead"),
            "anomalies_final": facts.get("anomalies"),
            "anomalies_max_after_kill": {
                k: max([(t.get("anomalies") or {}).get(k, 0) for t in trials] or [0])
                for k in ("running_without_lease", "finished_without_attempt")},
            "duration_s": round(time.monotonic() - began, 1),
            "trials": trials,
            "failures": failures,
            "workdir": workdir,
        }
    except (SystemExit, KeyboardInterrupt):
        log("interrupted: stopping the server; the files stay in %s" % workdir)
        raise
    except Exception as error:  # a harness error: report it, stop the server, exit 2
        import traceback
        traceback.print_exc()
        failures.append("harness error: %r" % error)
        summary = {"seed": seed, "failures": failures, "harness_error": True, "workdir": workdir}
    finally:
        load.stopping.set()
        load.active.clear()
        server.stop_hard()
        ledger.close()

    text = json.dumps({k: v for k, v in summary.items() if k != "trials"}, indent=2, default=str)
    print(text)
    if args.json_summary:
        with open(args.json_summary, "w") as f:
            json.dump(summary, f, indent=2, default=str)
    failed_trials = {int(m.group(1)) for m in (re.match(r"trial (\d+)\b", f) for f in failures) if m}
    passed = sum(1 for t in summary.get("trials", []) if t["trial"] not in failed_trials)
    failed = len(summary.get("trials", [])) - passed
    for failure in failures:
        log("FAIL %s" % failure)
    final_ok = not any(f.startswith(("final", "drain", "harness")) for f in failures)
    log("%d passed, %d failed; final drain %s; %s acknowledged, %s lost, %s overlaps" % (
        passed, failed, "passed" if final_ok else "FAILED",
        sum(summary.get("acknowledged", {}).get(k, 0) for k in ("events", "logins")),
        summary.get("lost"), summary.get("overlaps")))
    if not failures and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    elif failures:
        log("kept the database, logs, runs log and ledger in %s" % workdir)
    if summary.get("harness_error"):
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
