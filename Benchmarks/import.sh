#!/usr/bin/env bash
# Bulk-import benchmark of the provisioning handler against a rate-limited fake Auth0
# tenant, on 127.0.0.1 only.
#
#   Benchmarks/import.sh                                  # 500 employees, burst 10, 50 requests/s
#   EMPLOYEES=200 BURST=2 RATE=2 Benchmarks/import.sh     # a free tenant
#   SKIP_BUILD=1 Benchmarks/import.sh
#
# Runs the gated test Auth0ManagementTests.ProvisioningImportBenchmark (INLET_BENCH_IMPORT=1): it
# starts the fake tenant of Tests/Auth0ManagementTests/FakeTenant.swift with a token bucket of
# BURST and RATE requests/s on /api/v2, appends EMPLOYEES employee.created events in one
# transaction (as POST /admin/employees/import does), runs the real dispatcher and
# provisioning handler (create user + assign role, so two API calls per employee) until
# every delivery is done or dead, and prints:
#
#   wall      seconds from the append to the last delivery
#   least     the least time the bucket allows: (admitted calls - BURST) / RATE
#   ratio     wall / least (target: <= 1.15)
#   429s      rate-limited answers (target: < 1 % of calls)
#   dead      dead letters (target: 0)
#
# The run is bound by the tenant's rate, not by CPU, so it uses the debug test build
# (the same .build folder as the tests; no extra build products).
#
# Environment: EMPLOYEES (500), BURST (10), RATE (50), CONCURRENCY (8, the handler's
# concurrency), ROLES (1; 0 skips role assignment), SKIP_BUILD (0).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "== building tests (swift build --build-tests)"
    timeout 3600 swift build --build-tests
fi

report=$(mktemp)
trap 'rm -f "$report" "$report.log"' EXIT

echo "== importing ${EMPLOYEES:-500} employees (burst ${BURST:-10}, ${RATE:-50} requests/s)"
INLET_BENCH_IMPORT=1 BENCH_REPORT="$report" \
    BENCH_EMPLOYEES=${EMPLOYEES:-500} BENCH_BURST=${BURST:-10} BENCH_RATE=${RATE:-50} \
    BENCH_CONCURRENCY=${CONCURRENCY:-8} BENCH_ROLES=${ROLES:-1} \
    timeout 900 swift test --skip-build --filter ProvisioningImportBenchmark >"$report.log" 2>&1 || {
        tail -20 "$report.log" >&2
        echo "the benchmark failed; rerun: INLET_BENCH_IMPORT=1 swift test --skip-build --filter ProvisioningImportBenchmark" >&2
        exit 1
    }
cat "$report"
