#!/usr/bin/env bash
# HTTP load test of a release build of inlet, on 127.0.0.1 only.
#
#   Benchmarks/load.sh                       # synchronous=full, 15 s per run
#   SYNCHRONOUS=normal Benchmarks/load.sh    # compare with PRAGMA synchronous=NORMAL
#   DURATION=30 SKIP_BUILD=1 Benchmarks/load.sh
#
# Builds `inlet`, serves a fresh database in a temporary folder, measures GET /healthz
# (the ceiling of the HTTP stack) and then POST /internal/auth/sync-user with ~600-byte
# login bodies (Benchmarks/sync-user.lua: half new users, half repeats of a pool of ids), then
# the same bodies with an auth0Id that is not a string (authenticated, read and parsed,
# answered 400, nothing written: the route's floor without the store), and prints a
# summary. The server is stopped and the folder removed on exit.
#
# Environment: DURATION (s, 15), THREADS (2), CONNECTIONS (64), PORT (a free one),
# SYNCHRONOUS or INLET_DB_SYNCHRONOUS (full), POOL (1000), NEW_RATIO (0.5),
# BODY_BYTES (600), SKIP_BUILD (0), STARTUP_TIMEOUT (s, 30), KEEP_DB (0: set to 1 to
# keep the temporary folder and print its path).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
SYNC_MODE=${INLET_DB_SYNCHRONOUS:-${SYNCHRONOUS:-full}}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-30}
export POOL=${POOL:-1000} NEW_RATIO=${NEW_RATIO:-0.5} BODY_BYTES=${BODY_BYTES:-600}

case "$SYNC_MODE" in
    full | normal) ;;
    *) echo "SYNCHRONOUS must be full or normal, not $SYNC_MODE" >&2; exit 2 ;;
esac
for tool in wrk curl timeout; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }
done

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "== building (swift build -c release --product inlet)"
    timeout 3600 swift build -c release --product inlet
fi
BIN=.build/release/inlet
[[ -x "$BIN" ]] || { echo "$BIN is missing; build it first" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/inlet-bench.XXXXXX")
SERVER_PID=""
cleanup() {
    local status=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ "${KEEP_DB:-0}" == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z "${PORT:-}" ]]; then
    # A free port: bind 0 and let the kernel choose (a tiny race, harmless here).
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)
fi
URL="http://127.0.0.1:$PORT"
DB="$TMP/bench.sqlite"
TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
export INTERNAL_API_TOKEN=$TOKEN

echo "== starting $BIN serve on 127.0.0.1:$PORT (synchronous=$SYNC_MODE, database $DB)"
INLET_DB_SYNCHRONOUS=$SYNC_MODE INLET_LOG_LEVEL=${INLET_LOG_LEVEL:-warning} \
    "$BIN" serve --listen "127.0.0.1:$PORT" --database "$DB" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
echo "   server pid $SERVER_PID"

deadline=$((SECONDS + STARTUP_TIMEOUT))
until curl -fsS --max-time 1 "$URL/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "the server exited during start-up:" >&2; tail -n 20 "$TMP/server.log" >&2; exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "GET /healthz did not answer within ${STARTUP_TIMEOUT}s:" >&2; tail -n 20 "$TMP/server.log" >&2; exit 1
    fi
    sleep 0.1
done

# One request of each kind first, so a wrong token or body fails loudly, not as a low req/s.
probe=$(curl -sS --max-time 5 -o "$TMP/probe.json" -w '%{http_code}' -X POST "$URL/internal/auth/sync-user" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary @fixtures/auth0-action/login.json)
if [[ "$probe" != 200 ]]; then
    echo "probe POST /internal/auth/sync-user answered $probe: $(cat "$TMP/probe.json")" >&2; exit 1
fi

# CPU ticks of each server thread, one "tid:name ticks" line each. Threads are reported
# one by one: several share a name (the SQLite executor threads inherit their creator's).
thread_ticks() {
    local task stat comm rest
    for task in /proc/"$SERVER_PID"/task/*; do
        # stat: "tid (comm) state ..." - comm may hold spaces; fields 14 and 15 are utime, stime.
        stat=$(cat "$task/stat" 2>/dev/null) || continue
        comm=${stat#*(}; comm=${comm%)*}; comm=${comm// /_}
        rest=${stat##*) }
        read -r -a f <<<"$rest"
        echo "${task##*/}:$comm $((f[11] + f[12]))"
    done | sort
}
# CPU seconds per thread between two thread_ticks snapshots (threads above 0.05 s).
thread_cpu() {
    local hz
    hz=$(getconf CLK_TCK)
    join -a 2 -e 0 -o '0,1.2,2.2' "$1" "$2" \
        | awk -v hz="$hz" -v d="$DURATION" '{c = ($3 - $2) / hz; if (c > 0.05) printf "    %-28s %6.1f s  (%3.0f%% of a core)\n", $1, c, 100 * c / d}' \
        | sort -k2 -nr
}

# Busy and total CPU ticks of the whole machine, from /proc/stat.
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
# CPU ticks of the whole server process.
server_ticks() { local rest; rest=$(cat /proc/"$SERVER_PID"/stat); rest=${rest##*) }; read -r -a f <<<"$rest"; echo $((f[11] + f[12])); }

run_wrk() { # name, wrk arguments...
    local name=$1; shift
    local m0 m1 s0 s1
    thread_ticks >"$TMP/$name.before"
    m0=$(machine_ticks); s0=$(server_ticks)
    timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency "$@" 2>&1 \
        | tee "$TMP/$name.out"
    m1=$(machine_ticks); s1=$(server_ticks)
    thread_ticks >"$TMP/$name.after"
    echo "  server CPU by thread during $name:"
    thread_cpu "$TMP/$name.before" "$TMP/$name.after" | tee "$TMP/$name.cpu"
    # Machine busy vs total, and the server's share: what is left went to wrk and to anything
    # else running on the machine (a busy machine makes every figure here lower).
    read -r b0 t0 <<<"$m0"; read -r b1 t1 <<<"$m1"
    # Server CPU per request: steadier than req/s when the machine is shared.
    awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v s=$((s1 - s0)) -v n="$(nproc)" -v hz="$(getconf CLK_TCK)" \
        -v r="$(awk '/ requests in / {print $1}' "$TMP/$name.out")" 'BEGIN {
        printf "  machine CPU: %.0f%% busy of %d cores; server %.1f s (%.0f us per request), wrk and everything else %.1f s\n",
            100 * b / t, n, s / hz, (r > 0 ? 1e6 * s / hz / r : 0), (b - s) / hz
    }' | tee "$TMP/$name.machine"
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
non2xx_wrk() { awk '/Non-2xx or 3xx responses:/ {n = $NF} END {print n + 0}' "$1"; }

echo
echo "== GET /healthz (-t$THREADS -c$CONNECTIONS -d${DURATION}s)"
run_wrk healthz "$URL/healthz"

echo
echo "== POST /internal/auth/sync-user (-t$THREADS -c$CONNECTIONS -d${DURATION}s, Benchmarks/sync-user.lua)"
run_wrk sync -s Benchmarks/sync-user.lua "$URL"
# wrk goes on with plain GETs when the script fails to load: refuse such a run.
if grep -q 'sync-user.lua:' "$TMP/sync.out" || ! grep -q '^sync-user non-2xx:' "$TMP/sync.out"; then
    echo "Benchmarks/sync-user.lua did not run (see above); the sync-user figures are void" >&2
    exit 1
fi

echo
echo "== POST /internal/auth/sync-user refused after parsing (REFUSED=1: auth0Id is not a string; 400, nothing written)"
REFUSED=1 run_wrk refused -s Benchmarks/sync-user.lua "$URL"

# Stop the server (SIGTERM: graceful shutdown closes the store) before counting rows.
kill -TERM "$SERVER_PID"
for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "the server did not stop within 10 s of SIGTERM; killing it" >&2
    kill -KILL "$SERVER_PID" || true
fi
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""

sql() { # one query, its rows as "a|b" lines
    if command -v sqlite3 >/dev/null; then
        sqlite3 -readonly "$DB" "$1"
    else
        python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(map(str, row)))' "$DB" "$1"
    fi
}
count_rows() { sql "SELECT count(*) FROM $1"; }
# Deliveries to event handlers left by the run, by state (when the schema has them).
deliveries() {
    [[ -n "$(sql "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'")" ]] || { echo "(no deliveries table)"; return; }
    sql "SELECT handler || ':' || state || '=' || count(*) FROM deliveries GROUP BY handler, state" | tr '\n' ' '
}

health_rps=$(rps "$TMP/healthz.out")
sync_rps=$(rps "$TMP/sync.out")
lua_non2xx=$(awk '/^sync-user non-2xx:/ {print $3}' "$TMP/sync.out")
echo
echo "== summary (synchronous=$SYNC_MODE, -t$THREADS -c$CONNECTIONS -d${DURATION}s, $(nproc) cores, wrk on the same machine)"
printf '  %-28s %s\n' \
    "healthz req/s" "$health_rps" \
    "healthz p50 / p99" "$(pct "$TMP/healthz.out" 50%) / $(pct "$TMP/healthz.out" 99%)" \
    "sync-user req/s" "$sync_rps" \
    "ratio sync-user / healthz" "$(awk -v a="$sync_rps" -v b="$health_rps" 'BEGIN {printf "%.3f", a / b}')" \
    "sync-user p50 / p99" "$(pct "$TMP/sync.out" 50%) / $(pct "$TMP/sync.out" 99%)" \
    "sync-user non-2xx" "${lua_non2xx:-?} (wrk's own count: $(non2xx_wrk "$TMP/sync.out"))" \
    "sync-user body bytes" "$(awk '/body bytes/ {print $NF}' "$TMP/sync.out")" \
    "refused after parsing req/s" "$(rps "$TMP/refused.out") (ratio $(awk -v a="$(rps "$TMP/refused.out")" -v b="$health_rps" 'BEGIN {printf "%.3f", a / b}'); 400s not counted as errors: $(awk '/^sync-user non-2xx:/ {print $3}' "$TMP/refused.out") others)" \
    "CPU during healthz" "$(sed 's/^  machine CPU: //' "$TMP/healthz.machine")" \
    "CPU during sync-user" "$(sed 's/^  machine CPU: //' "$TMP/sync.machine")" \
    "CPU during refused" "$(sed 's/^  machine CPU: //' "$TMP/refused.machine")" \
    "rows: users" "$(count_rows users) (1 from the probe request)" \
    "rows: events" "$(count_rows events) (1 from the probe request)" \
    "deliveries at the end" "$(deliveries)"
if grep -qiE 'error|warning' "$TMP/server.log"; then
    echo "  server log warnings/errors: $(grep -ciE 'error|warning' "$TMP/server.log") (first: $(grep -iE -m1 'error|warning' "$TMP/server.log"))"
fi
