#!/usr/bin/env bash
# Ingestion benchmark: signed POST /hooks/productivity (unique ids, ~700-byte events, audit
# handler enabled) against the GET /healthz ceiling of the same server in the same run,
# then the same events under an unknown type (verified, parsed, refused: the route's floor).
#   Benchmarks/productivity.sh            (DURATION=10 CONNECTIONS=64 EVENTS=200000 SYNCHRONOUS=full)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
EVENTS=${EVENTS:-200000}
SYNCHRONOUS=${SYNCHRONOUS:-full}
PORT=${PORT:-18190}
SECRET="whsec_$(head -c 24 /dev/urandom | base64)"

python3 -c "import standardwebhooks" 2>/dev/null || pip install -q standardwebhooks
swift build -c release --product inlet >/dev/null
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT

PRODUCTIVITY_WEBHOOK_SECRET=$SECRET INLET_DB_SYNCHRONOUS=$SYNCHRONOUS INLET_LOG_LEVEL=warning \
  .build/release/inlet serve --listen 127.0.0.1:$PORT --database "$work/bench.sqlite" 2>"$work/server.log" &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

python3 Benchmarks/make-signed-events.py "$EVENTS" "$SECRET" "$work/events.tsv"
echo "event body bytes: $(head -1 "$work/events.tsv" | cut -f4 | wc -c)"

echo "== GET /healthz (ceiling)"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/healthz" | tee "$work/healthz.txt"
echo "== POST /hooks/productivity (signed, unique ids, audit enabled)"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s Benchmarks/productivity.lua "http://127.0.0.1:$PORT/hooks/productivity" \
  -- "$work/events.tsv" 2 | tee "$work/hooks.txt"

# The route's floor: the same events under a type the route does not accept, verified,
# parsed and refused with 400, nothing written.
# Nothing is stored, so ids may repeat: a few thousand, sent in a loop, are enough.
python3 Benchmarks/make-signed-events.py 5000 "$SECRET" "$work/refused.tsv" employee.unknown
echo "== POST /hooks/productivity refused after verifying and parsing (unknown type: 400, nothing written)"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s Benchmarks/productivity.lua "http://127.0.0.1:$PORT/hooks/productivity" \
  -- "$work/refused.tsv" 2 400 | tee "$work/refused.txt"

ceiling=$(awk '/Requests\/sec/ {print $2}' "$work/healthz.txt")
ingest=$(awk '/Requests\/sec/ {print $2}' "$work/hooks.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/hooks.txt")
floor=$(awk '/Requests\/sec/ {print $2}' "$work/refused.txt")
events=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from events').fetchone()[0])" "$work/bench.sqlite")
echo "summary: healthz ${ceiling} req/s; hooks ${ingest} events/s (ratio $(python3 -c "print(round($ingest/$ceiling, 2))")); p99 ${p99}; events stored ${events}; synchronous=${SYNCHRONOUS}"
echo "floor: refused after verifying and parsing ${floor} req/s (ratio $(python3 -c "print(round($floor/$ceiling, 2))"))"
