#!/usr/bin/env bash
# `make bench`: HTTP load on release builds of inlet, server and load generator pinned to
# separate cores, on 127.0.0.1 only; stops by itself.
#
#   Benchmarks/load.sh                            # build, then every route and the FastAPI side by side
#   SKIP_BUILD=1 DURATION=20 Benchmarks/load.sh
#   Benchmarks/load.sh OLD_BINARY NEW_BINARY      # builds side by side, interleaved (A B A B); no FastAPI
#   Benchmarks/load.sh old:/tmp/inlet-old new:/tmp/inlet-new:/tmp/config.json   # LABEL:BINARY[:INLET_CONFIG]
#
# For each route, each binary, each round: a fresh database in a temporary folder, the
# server pinned to SERVER_CPU (taskset), wrk with one thread and CONNECTIONS connections
# pinned to WRK_CPU for DURATION seconds, then SIGTERM. Routes (ROUTES):
#   healthz  GET /healthz (the HTTP stack's ceiling)
#   login    POST /internal/auth/sync-user, ~600-byte bodies, half new users (Benchmarks/sync-user.lua)
#   ingest   POST /hooks/productivity, signed employee.created events with unique ids, the audit
#            handler on (Benchmarks/productivity.lua; events signed by Benchmarks/make-signed-events.py)
#   fastapi  the login endpoint as FastAPI + uvicorn (bench/fastapi-login: two workers pinned to
#            SERVER_CPU, SQLite WAL with synchronous=FULL, user and event in one transaction,
#            the answer after COMMIT), installed from PyPI into a virtual environment (VENV)
# Reported per run: requests/s, p50/p99 latency, non-2xx, server CPU per request (utime+stime
# of the server's processes from /proc/PID/stat over the run, divided by the requests wrk
# completed), WAL bytes, disk bytes and context switches per request:
#   WAL B/req   frames the server's commits appended to the SQLite WAL (header + page each),
#               counted by the writer from SQLite's WAL hook (frames in the WAL after each
#               commit; a lower count means the WAL started over) and logged when the store
#               closes ("wal_bytes_written"): exact, and blind to checkpoints and page-cache
#               effects. It includes start-up and the probe request (a few pages).
#   disk B/req  write_bytes of /proc/PID/io over the run: bytes the server caused to be
#               written to storage, the WAL and the checkpoints' copies into the database,
#               in whole pages as the kernel dirties them (so a batch that ends mid-page
#               counts that page again at the next): what the disk sees, for either server.
#   switches/req  voluntary and involuntary context switches of all the server's threads
#               (/proc/PID/task/*/status), per request: the thread hops a request costs.
#
# Environment: DURATION (s, 10), CONNECTIONS (64), ROUNDS (1), ROUTES ("healthz login fastapi
# ingest", in that order, FastAPI right after Inlet's login; with several binaries "login
# ingest"), SERVER_CPU (0), WRK_CPU (1), EVENTS (signed events to prepare, signed again every
# three minutes; 12,000 per second of DURATION), VENV (.build/bench-venv), SKIP_BUILD (0),
# POOL (1000), NEW_RATIO (0.5), BODY_BYTES (600), KEEP (0: 1 keeps the folder with the logs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-1}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
EVENTS=${EVENTS:-$((12000 * DURATION))}
VENV=${VENV:-.build/bench-venv}
export POOL=${POOL:-1000} NEW_RATIO=${NEW_RATIO:-0.5} BODY_BYTES=${BODY_BYTES:-600}
for tool in wrk taskset curl python3 timeout; do
    command -v "$tool" >/dev/null || { echo "$tool is required (make bench installs wrk)" >&2; exit 2; }
done
[[ $(nproc) -ge 2 ]] || echo "warning: $(nproc) core(s): the server and wrk share one" >&2

# The binaries to compare: LABEL:BINARY[:INLET_CONFIG], or a path (labelled by its file name).
labels=() binaries=() configs=()
if [[ $# -eq 0 ]]; then
    if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
        echo "== building (swift build -c release --product inlet)"
        timeout 3600 swift build -c release --product inlet
    fi
    set -- "inlet:.build/release/inlet"
    ROUTES=${ROUTES:-healthz login fastapi ingest}
else
    ROUTES=${ROUTES:-login ingest}
fi
for spec in "$@"; do
    if [[ $spec == *:* ]]; then
        IFS=: read -r label binary config <<<"$spec"
    else
        label=$(basename "$spec") binary=$spec config=""
    fi
    [[ -x "$binary" ]] || { echo "$binary is not an executable; build it first" >&2; exit 2; }
    labels+=("$label") binaries+=("$binary") configs+=("${config:-}")
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/inlet-bench.XXXXXX")
SERVER=""
stop_server() { # SIGTERM, wait up to 10 s, then SIGKILL
    [[ -n "$SERVER" ]] || return 0
    kill -TERM "$SERVER" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
}
cleanup() {
    local status=$?
    if [[ -n "$SERVER" ]]; then pkill -TERM -P "$SERVER" 2>/dev/null || true; stop_server; fi
    if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
export INTERNAL_API_TOKEN="itok_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
TICKS=$(getconf CLK_TCK)

# The virtual environment: FastAPI, uvicorn and the webhook signer, from PyPI.
REQUIREMENTS=bench/fastapi-login/requirements.txt
if ! cmp -s "$REQUIREMENTS" "$VENV/requirements.txt" 2>/dev/null; then
    echo "== installing $REQUIREMENTS into $VENV (PyPI)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS"
    cp "$REQUIREMENTS" "$VENV/requirements.txt"
fi
# Signed events, signed again before a run once they are three minutes old: the receiver
# refuses a timestamp more than five minutes away from its clock.
SIGNED_AT=-1000
sign_events() {
    ((SECONDS - SIGNED_AT < 180)) && return 0
    echo "== signing $EVENTS employee.created events" >&2
    "$VENV/bin/python" Benchmarks/make-signed-events.py "$EVENTS" "$SECRET" "$TMP/events.tsv" >/dev/null
    SIGNED_AT=$SECONDS
}

# The server's processes: the pid and its descendants (uvicorn's workers).
tree() { local pid=$1 child; echo "$pid"; for child in $(pgrep -P "$pid" || true); do tree "$child"; done; }
# Sum of utime+stime ticks, and of write_bytes, over the server's processes.
cpu_ticks() { local total=0 pid rest; for pid in $(tree "$SERVER"); do
    rest=$(cat "/proc/$pid/stat" 2>/dev/null) || continue; rest=${rest##*) }; read -r -a f <<<"$rest"
    total=$((total + f[11] + f[12])); done; echo "$total"; }
# Context switches (voluntary and not) of every thread of the server's processes: each
# hop of a request between threads costs at least one on a single core.
switches() { local total=0 pid n; for pid in $(tree "$SERVER"); do
    n=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches:/ {s += $2} END {print s + 0}'); total=$((total + n)); done; echo "$total"; }
disk_bytes() { local total=0 pid n; for pid in $(tree "$SERVER"); do
    n=$(awk '/^write_bytes:/ {print $2}' "/proc/$pid/io" 2>/dev/null) || continue; total=$((total + ${n:-0})); done; echo "$total"; }

wait_ready() { # path
    local deadline=$((SECONDS + 60))
    until curl -fsS --max-time 1 "$URL$1" >/dev/null 2>&1; do
        kill -0 "$SERVER" 2>/dev/null || { echo "the server exited during start-up:" >&2; tail -n 20 "$TMP/server.log" >&2; exit 1; }
        ((SECONDS < deadline)) || { echo "$URL$1 did not answer within 60 s" >&2; tail -n 20 "$TMP/server.log" >&2; exit 1; }
        sleep 0.1
    done
}

# run LABEL BINARY CONFIG ROUTE: one server, one wrk run; appends a result line to results.tsv.
run() {
    local label=$1 binary=$2 config=$3 route=$4 db="$TMP/db-$RANDOM$RANDOM"
    mkdir -p "$db"
    if [[ $route == fastapi ]]; then
        INTERNAL_API_TOKEN=$INTERNAL_API_TOKEN LOGIN_DB="$db/login.sqlite" taskset -c "$SERVER_CPU" \
            "$VENV/bin/uvicorn" app:app --app-dir bench/fastapi-login --workers 2 --host 127.0.0.1 --port "$PORT" \
            --log-level warning --no-access-log >"$TMP/server.log" 2>&1 &
        SERVER=$!
        wait_ready /healthz
    else
        local environment=(PRODUCTIVITY_WEBHOOK_SECRET="$SECRET" INLET_LOG_LEVEL=info)
        [[ -z $config ]] || environment+=(INLET_CONFIG="$config")
        env "${environment[@]}" taskset -c "$SERVER_CPU" "$binary" serve --listen "127.0.0.1:$PORT" --database "$db/inlet.sqlite" >"$TMP/server.log" 2>&1 &
        SERVER=$!
        wait_ready /readyz
    fi
    # One request first, so that a wrong token or body fails loudly, not as a low req/s.
    if [[ $route == login || $route == fastapi ]]; then
        local probe
        probe=$(curl -sS --max-time 5 -o "$TMP/probe.json" -w '%{http_code}' -X POST "$URL/internal/auth/sync-user" \
            -H "Authorization: Bearer $INTERNAL_API_TOKEN" -H 'Content-Type: application/json' --data-binary @fixtures/auth0-action/login.json)
        [[ $probe == 200 ]] || { echo "$route: the probe login answered $probe: $(cat "$TMP/probe.json")" >&2; exit 1; }
    fi
    [[ $route != ingest ]] || sign_events
    local c0 d0 x0 c1 d1 x1 wal=""
    c0=$(cpu_ticks) d0=$(disk_bytes) x0=$(switches)
    case $route in
        healthz) taskset -c "$WRK_CPU" timeout $((DURATION + 60)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency "$URL/healthz" ;;
        login | fastapi) taskset -c "$WRK_CPU" timeout $((DURATION + 60)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
            -s Benchmarks/sync-user.lua "$URL" ;;
        ingest) taskset -c "$WRK_CPU" timeout $((DURATION + 60)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
            -s Benchmarks/productivity.lua "$URL/hooks/productivity" -- "$TMP/events.tsv" 1 ;;
    esac >"$TMP/wrk.out" 2>&1 || { cat "$TMP/wrk.out" >&2; exit 1; }
    c1=$(cpu_ticks) d1=$(disk_bytes) x1=$(switches)
    if [[ $route == fastapi ]]; then pkill -TERM -P "$SERVER" 2>/dev/null || true; fi
    stop_server
    if [[ $route != fastapi ]]; then
        wal=$(sed -n 's/.*wal_bytes_written[^0-9]*\([0-9][0-9]*\).*/\1/p' "$TMP/server.log" | tail -n 1)
    fi
    # wrk goes on with plain GETs when a script fails to load: refuse such a run.
    if [[ $route != healthz ]] && grep -q '\.lua:' "$TMP/wrk.out"; then cat "$TMP/wrk.out" >&2; exit 1; fi
    local requests rps p50 p99 non2xx
    requests=$(awk '/ requests in / {print $1}' "$TMP/wrk.out")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk.out")
    p50=$(awk '$1 == "50%" {print $2}' "$TMP/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {n = $NF} /^responses other than/ {n = $NF} END {print n + 0}' "$TMP/wrk.out")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$route" "$rps" "$p50" "$p99" "$non2xx" \
        "$(awk -v c=$((c1 - c0)) -v t="$TICKS" -v r="$requests" 'BEGIN {printf "%.1f", 1e6 * c / t / r}')" \
        "$(awk -v w="${wal:-}" -v r="$requests" 'BEGIN {if (w == "") print "-"; else printf "%.0f", w / r}')" \
        "$(awk -v d=$((d1 - d0)) -v r="$requests" 'BEGIN {printf "%.0f", d / r}')" \
        "$(awk -v x=$((x1 - x0)) -v r="$requests" 'BEGIN {printf "%.2f", x / r}')" "$requests" | tee -a "$TMP/results.tsv"
    rm -rf "$db"
}

echo "== server on CPU $SERVER_CPU, wrk (1 thread, $CONNECTIONS connections, ${DURATION}s) on CPU $WRK_CPU; $ROUNDS round(s)"
printf 'label\troute\treq/s\tp50\tp99\tnon-2xx\tCPU us/req\tWAL B/req\tdisk B/req\tswitches/req\trequests\n'
for round in $(seq 1 "$ROUNDS"); do
    for route in $ROUTES; do
        if [[ $route == fastapi ]]; then run fastapi - - fastapi; continue; fi
        for i in "${!binaries[@]}"; do run "${labels[$i]}" "${binaries[$i]}" "${configs[$i]}" "$route"; done
    done
done

# The disk's flush latency now: it bounds a server that commits one transaction per fsync.
fsync_ms=$(python3 - "$TMP/fsync.probe" <<'PY'
import os, sys, time
fd, n, start = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT), 0, time.monotonic()
while time.monotonic() - start < 1 and n < 2000:
    os.pwrite(fd, b"x" * 4096, (n % 64) * 4096); os.fdatasync(fd); n += 1
print(f"{(time.monotonic() - start) / n * 1000:.2f}")
PY
)
echo
echo "== summary (medians over rounds; $(nproc) cores; server CPU $SERVER_CPU, wrk CPU $WRK_CPU; fdatasync of a 4 KiB write: $fsync_ms ms)"
python3 - "$TMP/results.tsv" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
groups = {}
for label, route, rps, p50, p99, non2xx, cpu, wal, disk, switches, requests in rows:
    groups.setdefault((label, route), []).append((float(rps), p50, p99, int(non2xx), float(cpu), wal, int(disk), float(switches)))
def ms(text):
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    for suffix in ("us", "ms", "s"):
        if text.endswith(suffix): return float(text[: -len(suffix)]) * unit[suffix]
    return float("nan")
print(f"  {'label':10} {'route':8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} {'WAL B/req':>9} {'disk B/req':>10} {'switches/req':>12} {'non-2xx':>7}")
medians = {}
for (label, route), runs in groups.items():
    rps = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[4] for r in runs)
    wal = [float(r[5]) for r in runs if r[5] != "-"]
    medians[(label, route)] = (rps, cpu)
    print(f"  {label:10} {route:8} {rps:8.0f} {statistics.median(ms(r[1]) for r in runs):7.2f} "
          f"{statistics.median(ms(r[2]) for r in runs):7.2f} {cpu:10.1f} "
          f"{(statistics.median(wal) if wal else float('nan')):9.0f} {statistics.median(r[6] for r in runs):10.0f} "
          f"{statistics.median(r[7] for r in runs):12.2f} {sum(r[3] for r in runs):7d}")
for (label, route), (rps, cpu) in medians.items():
    if route == "login" and ("fastapi", "fastapi") in medians:
        f_rps, f_cpu = medians[("fastapi", "fastapi")]
        print(f"  {label} login against FastAPI + uvicorn: {rps / f_rps:.1f}x the requests/s, {f_cpu / cpu:.1f}x less CPU per request")
PY
