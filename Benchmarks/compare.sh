#!/usr/bin/env bash
# Builds of inlet side by side in one run, pinned (server CPU 0, wrk CPU 1), interleaved
# A B A B: durable logins and signed employee.created events, each against a fresh database;
# requests/s, p50/p99, server CPU and WAL bytes per request (Benchmarks/load.sh does the work).
#   Benchmarks/compare.sh OLD_BINARY NEW_BINARY [MORE...]   (DURATION=10 CONNECTIONS=64 ROUNDS=2)
#   Benchmarks/compare.sh old:/tmp/inlet:/tmp/a.json new:/tmp/inlet:/tmp/b.json   # LABEL:BINARY[:INLET_CONFIG]
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: Benchmarks/compare.sh BINARY BINARY [BINARY...]" >&2; exit 2; }
ROUNDS=${ROUNDS:-2} exec "$(dirname "${BASH_SOURCE[0]}")/load.sh" "$@"
