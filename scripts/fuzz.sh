#!/usr/bin/env bash
# Fuzzes every parser target of Fuzz/Entries with libFuzzer, one target after another,
# each for FUZZ_SECONDS (first argument, default 60). `make fuzz FUZZ_SECONDS=600`.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: json jwt webhooks base64 content-type
#
# Builds `inlet-fuzz` in release with -sanitize=fuzzer,address into .build-fuzz/, runs each
# target in one process (the machine is shared) over a working corpus in
# .build-fuzz/corpus/<target> seeded from Fuzz/corpus/<target>, and ends by merging the
# inputs that add coverage into Fuzz/corpus/<target> (commit them: the test suite replays
# that folder). A crash, leak or hang stops with the input in .build-fuzz/artifacts/;
# copy it to Fuzz/corpus/<target>/regression-<what> once fixed. The per-input timeout is
# 120 s, not 10: on a shared machine whose processes get paused, 10 s reported stalls
# (inputs that replay in milliseconds) as hangs. Summary per target:
# executions, cov: (edges) and ft: (features) from libFuzzer's last line.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(json jwt webhooks base64 content-type)

# lld: SwiftPM links executables with gold, which fails on libFuzzer's instrumented objects.
mkdir -p .build-fuzz
lld=$(dirname "$(readlink -f "$(command -v swift)")")/ld.lld
printf '{"schemaVersion": "1.0", "linker": {"path": "%s"}}\n' "$lld" >.build-fuzz/toolset.json
swift build -c release --scratch-path .build-fuzz --product inlet-fuzz --toolset .build-fuzz/toolset.json \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
binary=.build-fuzz/release/inlet-fuzz

status=0
for target in "${targets[@]}"; do
    work=.build-fuzz/corpus/$target
    artifacts=.build-fuzz/artifacts/$target/
    log=.build-fuzz/logs/$target.log
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    echo "fuzz: $target for ${seconds} s (log: $log)"
    if ! INLET_FUZZ_TARGET=$target "$binary" "$work" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -timeout=120 -rss_limit_mb=2048 -max_len=16384 \
        -artifact_prefix="$artifacts" -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz: $target FAILED; the input is in $artifacts" >&2
        grep -E "ERROR|Fatal error|SUMMARY|==[0-9]+==" "$log" | head -20 >&2 || true
        status=1
        continue
    fi
    INLET_FUZZ_TARGET=$target "$binary" -merge=1 "Fuzz/corpus/$target" "$work" >/dev/null 2>&1 || echo "fuzz: merging $target failed" >&2
    last=$(grep -E "^#[0-9]+.*(DONE|pulse|NEW|REDUCE).*cov:" "$log" | tail -1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $target: $runs executions in ${seconds} s; cov: ${last#*cov: }"
done
exit $status
