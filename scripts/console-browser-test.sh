#!/usr/bin/env bash
# The console's browser test (scripts/console/browser_test.py): Debian's chromium driven by
# Playwright for Python against a live `inlet serve` on loopback. Run by `make test` after
# the Swift tests, on the debug binary `swift build --build-tests` made. Playwright lives in
# a venv under .build (never committed); it never downloads a browser: it drives
# /usr/bin/chromium (scripts/install-deps.sh installs it). Screenshots go to
# .build/test-output/console/. Extra arguments go to browser_test.py.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=.build/debug/inlet
if [[ ! -x $binary ]]; then
    echo "console-browser-test: $binary is missing; run swift build --build-tests first" >&2
    exit 1
fi
if [[ ! -x /usr/bin/chromium ]]; then
    echo "console-browser-test: /usr/bin/chromium is missing; run scripts/install-deps.sh (apt package chromium)" >&2
    exit 1
fi
venv=.build/browser-venv
if ! "$venv/bin/python" -c 'import playwright' 2>/dev/null; then
    echo "console-browser-test: installing Playwright into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'playwright>=1.40,<2'
fi
# Playwright must not fetch a browser of its own: the system chromium is named explicitly.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec timeout 360 "$venv/bin/python" scripts/console/browser_test.py --binary "$binary" "$@"
