#!/usr/bin/env bash
# Builds Examples/custom-inlet, a separate package that depends on Inlet by path and adds
# a handler of its own (docs/writing-a-handler.md), then runs its tests: they start the
# built `custom-inlet serve` on loopback, POST a webhook, and wait for the handler's line.
# Run by `make test` after Inlet's own tests.
#
# The example builds in Inlet's own .build (--scratch-path), not in a .build of its own.
# Inlet's modules and its dependencies (NIO, Hummingbird, ...) are then compiled once for
# both packages: after `swift build --build-tests` at the root, this build compiles only
# the example's own targets. Measured on the 2-core machine: 15 to 27 s for that build,
# against 4 min 22 s (262 s of compiling, machine otherwise quiet; more under load) for
# the same build in a scratch folder of its own. SwiftPM records in that folder the root
# package it last planned, but its build database keeps each command's signature, and the
# dependencies are the same packages at the same versions built with the same flags: going
# from one package to the other recompiles nothing (a no-op build of either, 7 to 10 s).
# A fresh clone builds the same way: `make test` builds the root first, then this.
# EXAMPLE_SCRATCH_PATH picks another folder (name it .build-NAME: .gitignore covers it).
#
# Usage: scripts/example-test.sh [swift test arguments, e.g. --filter CustomInletTests]
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=${EXAMPLE_SCRATCH_PATH:-$PWD/.build}
swiftpm=(--package-path Examples/custom-inlet --scratch-path "$scratch")

# The root's pins (when it has resolved): the example then resolves the same versions, so
# the shared folder's checkouts, and what was built from them, never switch between the two.
if [[ -f Package.resolved ]]; then
    cp Package.resolved Examples/custom-inlet/Package.resolved
fi

# Bounded: a fresh scratch folder builds all of Inlet first; after the root build, seconds.
timeout --kill-after=30 "${EXAMPLE_BUILD_TIMEOUT:-3600}" swift build --build-tests "${swiftpm[@]}"
bin=$(swift build "${swiftpm[@]}" --show-bin-path)
CUSTOM_INLET_BINARY=$bin/custom-inlet timeout --kill-after=30 "${EXAMPLE_TEST_TIMEOUT:-600}" \
    swift test --skip-build "${swiftpm[@]}" "$@"
