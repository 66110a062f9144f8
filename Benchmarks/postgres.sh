#!/usr/bin/env bash
# PostgreSQL against SQLite, in one run, on 127.0.0.1 only (docs/performance.md, docs/postgresql.md).
#
#   Benchmarks/postgres.sh                      # 10 s per load run
#   DURATION=20 SKIP_BUILD=1 Benchmarks/postgres.sh
#
# Starts a throwaway PostgreSQL (scripts/test-postgres.sh; synchronous_commit on, fsync on),
# then measures with wrk (64 connections in all, split over the instances):
#   - durable logins (Benchmarks/sync-user.lua) and signed employee.created ingestion with the
#     audit handler (Benchmarks/productivity.lua) on SQLite, on PostgreSQL with one instance,
#     and with two instances on one database (two wrk processes, one per instance);
#   - the drain of 100,000 audit deliveries by two processes (inlet-drain-bench);
#   - claim latency at 100 deliveries a second, two processes (inlet-drain-bench latency).
# PostgreSQL, the instances and wrk share this machine's cores: nothing is pinned. For each
# load run it prints requests/s, the worst instance's p99, and the CPU time per request of
# the inlet processes and of PostgreSQL (from /proc). Everything stops on exit.
#
# Environment: DURATION (s, 10), CONNECTIONS (64), EVENTS (signed events made, 200000),
# DRAIN_EVENTS (100000), SKIP_BUILD (0). Needs root (the cluster runs as `postgres`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
EVENTS=${EVENTS:-200000}
DRAIN_EVENTS=${DRAIN_EVENTS:-100000}
for tool in wrk curl python3; do command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }; done
python3 -c "import standardwebhooks" 2>/dev/null || pip install -q standardwebhooks

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    timeout 3600 swift build -c release --product inlet
    timeout 3600 swift build -c release --product inlet-drain-bench
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/inlet-pg-bench.XXXXXX")
chmod o+x "$work"
servers=()
stop_servers() {
    for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${servers[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    servers=()
}
cleanup() {
    local status=$?
    stop_servers
    scripts/test-postgres.sh stop "$work/pg" || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

eval "$(scripts/test-postgres.sh start "$work/pg")"
pg_port=$(sed -E 's|.*:([0-9]+)/.*|\1|' <<<"$INLET_TEST_POSTGRES_URL")
superuser() { (cd / && runuser -u postgres -- "$INLET_TEST_POSTGRES_BIN/psql" -qAt -h "$INLET_TEST_POSTGRES_DIR" -p "$pg_port" -U postgres "$@"); }
# A fresh database for each variant; prints its URL.
database() {
    superuser -c "CREATE DATABASE $1 OWNER inlet" >/dev/null
    echo "postgres://inlet@127.0.0.1:$pg_port/$1?sslmode=disable"
}
# CPU ticks (1/100 s) of PostgreSQL: the postmaster (with its exited backends' time) and
# its running children.
pg_ticks() {
    local postmaster total=0 pid
    postmaster=$(head -1 "$INLET_TEST_POSTGRES_DIR/postmaster.pid")
    for pid in "$postmaster" $(pgrep -P "$postmaster" || true); do
        total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

export INTERNAL_API_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
export PRODUCTIVITY_WEBHOOK_SECRET=$SECRET INLET_DATABASE_PASSWORD=$INLET_TEST_POSTGRES_PASSWORD INLET_LOG_LEVEL=warning
python3 Benchmarks/make-signed-events.py "$EVENTS" "$SECRET" "$work/events.tsv"
half=$((EVENTS / 2))
head -n "$half" "$work/events.tsv" >"$work/events-1.tsv"
tail -n +"$((half + 1))" "$work/events.tsv" >"$work/events-2.tsv"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ports=()
# start_servers DATABASE COUNT: COUNT instances of inlet serve on DATABASE.
start_servers() {
    local database=$1 count=$2 i port
    ports=()
    for i in $(seq "$count"); do
        port=$(free_port)
        .build/release/inlet serve --listen "127.0.0.1:$port" --database "$database" 2>"$work/server-$i.log" &
        servers+=($!)
        ports+=("$port")
    done
    for port in "${ports[@]}"; do
        for _ in $(seq 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
        curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work"/server-*.log >&2; echo "inlet did not start" >&2; exit 1; }
    done
}

results=()
# load NAME ROUTE: wrk on every instance at once (connections split), then one summary line.
load() {
    local name=$1 route=$2 count=${#ports[@]} i pids=() before=() pg_before
    local per=$((CONNECTIONS / count))
    for pid in "${servers[@]}"; do before+=("$(ticks "$pid")"); done
    pg_before=$(pg_ticks)
    for i in $(seq 0 $((count - 1))); do
        if [[ $route == login ]]; then
            ID_PREFIX="$name-$i" wrk -t2 -c"$per" -d"${DURATION}s" --latency -s Benchmarks/sync-user.lua \
                "http://127.0.0.1:${ports[$i]}/internal/auth/sync-user" >"$work/wrk-$i.txt" &
        else
            local file="$work/events-$((i + 1)).tsv"
            [[ $count == 1 ]] && file="$work/events.tsv"
            wrk -t2 -c"$per" -d"${DURATION}s" --latency -s Benchmarks/productivity.lua \
                "http://127.0.0.1:${ports[$i]}/hooks/productivity" -- "$file" 2 >"$work/wrk-$i.txt" &
        fi
        pids+=($!)
    done
    wait "${pids[@]}"
    local inlet_ticks=0 idx=0
    for pid in "${servers[@]}"; do inlet_ticks=$((inlet_ticks + $(ticks "$pid") - before[idx])); idx=$((idx + 1)); done
    local pg_used=$(($(pg_ticks) - pg_before))
    python3 - "$name" "$route" "$inlet_ticks" "$pg_used" "$work"/wrk-*.txt <<'PY' | tee -a "$work/summary.txt"
import re, sys
name, route, inlet_ticks, pg_ticks, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
rate, requests, p99, bad = 0.0, 0, 0.0, 0
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
for f in files:
    text = open(f).read()
    rate += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    requests += int(re.search(r"(\d+) requests in", text).group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", text, re.M)
    p99 = max(p99, float(m.group(1)) * unit[m.group(2)])
    m = re.search(r"(?:Non-2xx or 3xx responses|responses other than \d+):\s+(\d+)", text)
    bad += int(m.group(1)) if m else 0
per = lambda ticks: ticks * 10000 / max(requests, 1)
print(f"{name:<22} {route:<7} {rate:>9.0f} req/s  p99 {p99:>7.1f} ms  inlet {per(inlet_ticks):>6.0f} us/req  "
      f"postgres {per(pg_ticks):>6.0f} us/req  failed {bad}")
PY
    rm -f "$work"/wrk-*.txt
}

echo "== variant                route      rate          p99          CPU per request" | tee "$work/summary.txt"
start_servers "$work/bench.sqlite" 1
load sqlite login
load sqlite ingest
stop_servers
start_servers "$(database one)" 1
load postgres-1-instance login
load postgres-1-instance ingest
stop_servers
start_servers "$(database two)" 2
load postgres-2-instances login
load postgres-2-instances ingest
stop_servers

export INLET_DATABASE=$(database drain)
.build/release/inlet-drain-bench fill "$DRAIN_EVENTS" | tee -a "$work/summary.txt"
.build/release/inlet-drain-bench drain >"$work/drain-2.txt" &
drain_pid=$!
.build/release/inlet-drain-bench drain | sed 's/^/drain, 2 processes: /' | tee -a "$work/summary.txt"
wait "$drain_pid"
export INLET_DATABASE=$(database latency)
.build/release/inlet-drain-bench latency 100 20 >"$work/latency-2.txt" &
latency_pid=$!
.build/release/inlet-drain-bench latency 100 20 append | sed 's/^/claim latency, appending process: /' | tee -a "$work/summary.txt"
wait "$latency_pid"
sed 's/^/claim latency, other process: /' "$work/latency-2.txt" | tee -a "$work/summary.txt"
echo
echo "== summary (also in docs/performance.md's format)"
cat "$work/summary.txt"
