#!/usr/bin/env bash
# Installs the Debian packages Inlet builds against (and, with --bench, the load tools).
# Does nothing when they are already there; needs root (or sudo) only when they are not.
set -euo pipefail

# postgresql: scripts/test-postgres.sh runs a throwaway cluster for `make test`.
# chromium, fonts-dejavu-core, python3-venv: the console's browser test (scripts/console-browser-test.sh drives
# the system chromium with Playwright, installed by pip into a venv under .build).
# nodejs: the Auth0 Post-Login Action's test (integrations/auth0, node --test).
packages=(libjansson-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev pkg-config postgresql chromium fonts-dejavu-core python3-venv nodejs)
if [[ "${1:-}" == "--bench" ]]; then
    packages+=(wrk sqlite3)
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
