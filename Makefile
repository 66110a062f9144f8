# The two commands of the README: `make run` starts the receiver, `make test` runs every test.
SHELL := /bin/bash

.PHONY: deps run test bench bench-json crash-test fuzz

deps:
	@scripts/install-deps.sh

## Build a release binary and start `inlet serve` (127.0.0.1:8080, ./data/inlet.sqlite).
run: deps
	swift build -c release --product inlet
	.build/release/inlet serve

## Start a throwaway PostgreSQL (scripts/test-postgres.sh), build once, then run the whole
## suite (unit and end-to-end over loopback, the store conformance suite against SQLite and
## PostgreSQL), then the example package's (Examples/custom-inlet, built in the same .build),
## then the contract test: schemathesis against a live `inlet serve` (docs/openapi.yaml), then
## the console's browser test (Playwright driving Debian's chromium against a live `inlet serve`).
## scripts/test.sh runs the steps and stops PostgreSQL at the end, also when one fails.
test: deps
	scripts/test.sh

## Crash trials: SIGKILL a release build 50 times under load, then drain (see README, Crash trials).
CRASH_KILLS ?= 50
CRASH_SEED ?=
crash-test: deps
	swift build -c release --product inlet
	scripts/crash-trials.py --binary .build/release/inlet --kills $(CRASH_KILLS) $(if $(CRASH_SEED),--seed $(CRASH_SEED)) \
		--json-summary .build/crash-trials.json

## Load benchmark against a release build, per route (healthz, durable login, signed ingestion)
## and beside a FastAPI + uvicorn login at the same durability (wrk; server and wrk pinned to
## separate cores; Benchmarks/load.sh, bench/fastapi-login; see docs/performance.md).
bench:
	@scripts/install-deps.sh --bench
	Benchmarks/load.sh

## JSON wrapper micro-benchmark against raw jansson and Foundation (Benchmarks/JSONBench).
bench-json: deps
	swift build -c release --product inlet-json-bench
	.build/release/inlet-json-bench fixtures/auth0-action

## Fuzz every parser (libFuzzer, ASan) for FUZZ_SECONDS each, one after another; see docs/fuzzing.md.
FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)
