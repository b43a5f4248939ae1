#!/usr/bin/env bash
# Runs each libFuzzer binary for SECONDS on its corpus directory
# (tests/fuzz/corpus/NAME/, created if missing; new inputs it finds are kept in
# build/fuzz/corpus-new/NAME/, not in the source tree) and ends with
# "fuzz: N passed, N failed". A crash leaves its input in build/fuzz/.
# Usage: tools/run-fuzz.sh SECONDS BIN...
set -uo pipefail
seconds=$1
shift
passed=0
failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    corpus=tests/fuzz/corpus/$name
    scratch=$(dirname "$bin")/corpus-new/$name
    mkdir -p "$corpus" "$scratch"
    echo "== $name (${seconds}s)"
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$(dirname "$bin")/$name-" -print_final_stats=0 \
        "$scratch" "$corpus" >"$(dirname "$bin")/$name.log" 2>&1; then
        passed=$((passed + 1))
        tail -n 2 "$(dirname "$bin")/$name.log"
    else
        failed=$((failed + 1))
        echo "FAILED: $name (log: $(dirname "$bin")/$name.log)"
        grep -E "ERROR|SUMMARY|Test unit written" "$(dirname "$bin")/$name.log" | head -n 10
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
