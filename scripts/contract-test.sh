#!/usr/bin/env bash
# The contract test: schemathesis checks docs/openapi.yaml against a live `inlet serve`
# on loopback (see scripts/contract/run.py). Run by `make test` after the Swift tests,
# on the debug binary `swift build --build-tests` made; installs schemathesis with pip
# when it is missing. Extra arguments go to run.py (--max-examples, --time-limit, --seed).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=.build/debug/inlet
if [[ ! -x $binary ]]; then
    echo "contract-test: $binary is missing; run swift build --build-tests first" >&2
    exit 1
fi
if ! python3 -c 'import schemathesis' 2>/dev/null; then
    echo "contract-test: installing schemathesis" >&2
    python3 -m pip install --quiet 'schemathesis>=4.3,<5'
fi
exec python3 scripts/contract/run.py --binary "$binary" "$@"
