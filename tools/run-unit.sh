#!/usr/bin/env bash
# Runs cmocka unit-test binaries (`make unit`) and adds up their test cases:
# each binary's own output is shown, then one closing line
#   unit: N passed, M failed
# A binary that crashes, or exits non-zero without saying which tests failed,
# counts as one more failure. Exits non-zero if anything failed.
# Usage: tools/run-unit.sh BIN...
set -uo pipefail

passed=0
failed=0
for bin in "$@"; do
    echo "==== $bin"
    out=$(mktemp)
    "$bin" 2>&1 </dev/null | tee "$out"
    rc=${PIPESTATUS[0]}
    # cmocka: "[  PASSED  ] 3 test(s)." and "[  FAILED  ] 1 test(s), listed below:"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$out" | awk '{s += $1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$out" | awk '{s += $1} END {print s+0}')
    summary=$(grep -c '^\[  \(PASSED\|FAILED\)  \] [0-9][0-9]* test(s)' "$out")
    rm -f "$out"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        # Crashed (sanitizer, signal) or failed without a summary: one failure.
        if [ "$rc" -gt 128 ]; then
            echo "unit: $bin was killed by signal $((rc - 128))"
        else
            echo "unit: $bin exited with status $rc without reporting a failed test"
        fi
        failed=$((failed + 1))
    elif [ "$summary" -eq 0 ]; then
        echo "unit: $bin printed no cmocka summary"
        failed=$((failed + 1))
    fi
done
[ $# -gt 0 ] || echo "unit: no test binaries given"
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
