#!/usr/bin/env bash
# Builds of inlet side by side in one run, pinned: the server on CPU 0, wrk on CPU 1.
# For each binary in turn (ROUNDS times): durable logins (Benchmarks/sync-user.lua) and
# signed employee.created events (Benchmarks/productivity.lua), each against a fresh database,
# reporting requests/s, p50/p99 and the server's CPU time per request (utime+stime from
# /proc/PID/stat over the run, divided by the requests wrk completed).
#   Benchmarks/compare.sh OLD_BINARY NEW_BINARY [MORE...]   (DURATION=10 CONNECTIONS=64 ROUNDS=2)
# Each binary is labelled by its file name.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $# -ge 2 ]] || { echo "usage: Benchmarks/compare.sh BINARY BINARY [BINARY...]" >&2; exit 2; }
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-2}
EVENTS=${EVENTS:-400000}
export POOL=${POOL:-1000} NEW_RATIO=${NEW_RATIO:-0.5} BODY_BYTES=${BODY_BYTES:-600}
for tool in wrk taskset curl python3; do command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }; done
python3 -c "import standardwebhooks" 2>/dev/null || pip install -q standardwebhooks

TMP=$(mktemp -d "${TMPDIR:-/tmp}/inlet-compare.XXXXXX")
SERVER=""
cleanup() {
    [[ -n "$SERVER" ]] && kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
export INTERNAL_API_TOKEN="itok_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
python3 Benchmarks/make-signed-events.py "$EVENTS" "$SECRET" "$TMP/events.tsv" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TICKS=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run LABEL BINARY KIND: one server, one wrk run; prints a result line.
run() {
    local label=$1 binary=$2 kind=$3 db="$TMP/db-$RANDOM$RANDOM"
    mkdir -p "$db"
    PRODUCTIVITY_WEBHOOK_SECRET=$SECRET INLET_LOG_LEVEL=warning \
        taskset -c 0 "$binary" serve --listen "127.0.0.1:$PORT" --database "$db/inlet.sqlite" >"$TMP/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
    local before after out
    before=$(cpu_ticks "$SERVER")
    if [[ $kind == login ]]; then
        out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s Benchmarks/sync-user.lua "http://127.0.0.1:$PORT")
    else
        out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s Benchmarks/productivity.lua \
            "http://127.0.0.1:$PORT/hooks/productivity" -- "$TMP/events.tsv" 1)
    fi
    after=$(cpu_ticks "$SERVER")
    kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
    rm -rf "$db"
    local requests rps p50 p99 non2xx
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    python3 - "$label" "$kind" "$rps" "$p50" "$p99" "$requests" "$before" "$after" "$TICKS" "${non2xx:-0}" <<'PY'
import sys
label, kind, rps, p50, p99, requests, before, after, ticks, non2xx = sys.argv[1:]
cpu_us = (int(after) - int(before)) / int(ticks) * 1e6 / max(1, int(requests))
print(f"{label:14} {kind:6} {float(rps):9.0f} req/s  p50 {p50:>8}  p99 {p99:>8}  server CPU {cpu_us:6.1f} us/request  non-2xx {non2xx}")
PY
}

for binary in "$@"; do echo "$(basename "$binary"): $binary"; done
echo "server on CPU 0, wrk (1 thread, $CONNECTIONS connections, ${DURATION}s) on CPU 1"
for round in $(seq 1 "$ROUNDS"); do
    for kind in login event; do
        for binary in "$@"; do run "$(basename "$binary")" "$binary" $kind; done
    done
done
