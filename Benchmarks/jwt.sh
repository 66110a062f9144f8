#!/usr/bin/env bash
# RS256 access-token verification against the raw RSA-2048 verify rate of OpenSSL, on
# one core, in the same run.
#
#   Benchmarks/jwt.sh                      # 3 s per case, 2 rounds
#   SECONDS_PER_CASE=5 ROUNDS=3 SKIP_BUILD=1 Benchmarks/jwt.sh
#
# Runs `openssl speed -seconds N rsa2048` and `inlet-jwt-bench N` alternately, ROUNDS
# times, pinned to CPU 0 with taskset when it exists, and keeps the best figure of each
# (a busy machine only ever lowers a figure). Both are per user-CPU second: openssl speed
# divides by user time unless given -elapsed, and the bench does the same.
#
# Prints openssl's verify/s, the bench's cases, and the ratios:
#   full             JWTVerifier.verify of a valid token with a cached key (the figure)
#   fresh            the same over distinct tokens, each one parsed (first sight of a token)
# Target: full / openssl >= 0.7.
#
# Environment: SECONDS_PER_CASE (3), ROUNDS (2), CPU (0), SKIP_BUILD (0).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_PER_CASE=${SECONDS_PER_CASE:-3}
ROUNDS=${ROUNDS:-2}
CPU=${CPU:-0}

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    swift build -c release --product inlet-jwt-bench >&2
fi
BENCH="$(swift build -c release --show-bin-path)/inlet-jwt-bench"
[[ -x "$BENCH" ]] || { echo "no $BENCH: add the inlet-jwt-bench target to Package.swift and build it" >&2; exit 1; }

PIN=()
if command -v taskset >/dev/null 2>&1; then PIN=(taskset -c "$CPU"); fi

# verify/s from `openssl speed` output, whatever the column layout of this version.
openssl_verify_rate() {
    awk '
        /verify\/s/ { for (i = 1; i <= NF; i++) if ($i == "verify/s") column = i }
        /^rsa +2048 +bits/ && column {
            n = 0
            for (i = 1; i <= NF; i++) if (seen) values[++n] = $i; else if ($i == "bits") seen = 1
            print values[column]
            exit
        }'
}

best_openssl=0
best_full=0
best_fresh=0
bench_output=""
for round in $(seq 1 "$ROUNDS"); do
    rate=$("${PIN[@]}" openssl speed -seconds "$SECONDS_PER_CASE" rsa2048 2>/dev/null | openssl_verify_rate)
    [[ -n "$rate" ]] || { echo "could not read openssl speed output" >&2; exit 1; }
    echo "round $round: openssl rsa2048 verify/s: $rate" >&2
    output=$("${PIN[@]}" "$BENCH" "$SECONDS_PER_CASE")
    echo "$output" | sed "s/^/round $round: /" >&2
    full=$(echo "$output" | awk '$1 == "full" && $2 == "verify/s:" { print $3 }')
    fresh=$(echo "$output" | awk '$1 == "fresh" && $2 == "verify/s:" { print $3 }')
    best_openssl=$(awk -v a="$best_openssl" -v b="$rate" 'BEGIN { print (b > a ? b : a) }')
    best_full=$(awk -v a="$best_full" -v b="$full" 'BEGIN { print (b > a ? b : a) }')
    best_fresh=$(awk -v a="$best_fresh" -v b="$fresh" 'BEGIN { print (b > a ? b : a) }')
    bench_output=$output
done

echo "token: $(echo "$bench_output" | awk '$1 == "token" { print $3 }') bytes, RS256, RSA-2048, one core${PIN:+ (CPU $CPU)}"
printf 'openssl speed rsa2048 verify/s:   %10.0f\n' "$best_openssl"
printf 'inlet full verify/s:              %10.0f   ratio %.2f (target >= 0.70)\n' "$best_full" \
    "$(awk -v a="$best_full" -v b="$best_openssl" 'BEGIN { print a / b }')"
printf 'inlet fresh verify/s:             %10.0f   ratio %.2f\n' "$best_fresh" \
    "$(awk -v a="$best_fresh" -v b="$best_openssl" 'BEGIN { print a / b }')"
