#!/usr/bin/env bash
# Runs the system tests (`make system`): pytest over tests/system, which boots the
# images in $BUILD (default build/) in QEMU and Bochs and talks to the serial
# console. Extra arguments go to pytest, e.g.
#   tools/run-system.sh -k iso_seabios        tests whose names match
#   tools/run-system.sh tests/system/test_shell.py::test_uptime_advances
#   SYSTEM_JOBS=1 tools/run-system.sh         no parallel machines
# Logs: $BUILD/test-logs/<test>.log (serial console + emulator output).
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the tree

# Debian's python3 has python3-pytest; a python3 earlier on PATH (pyenv, venv) may not.
py=${PYTHON:-/usr/bin/python3}
[ -x "$py" ] || py=python3
"$py" -c 'import pytest' 2>/dev/null || {
    echo "system: $py has no pytest (run tools/install-deps.sh)" >&2
    exit 1
}

args=(-v -p no:cacheprovider -r fEs --tb=short --durations=30)
# Per-test limit on top of the Machine's own watchdog, when pytest-timeout exists.
if "$py" -c 'import pytest_timeout' 2>/dev/null; then
    args+=(--timeout="${SYSTEM_TEST_TIMEOUT:-600}")
fi
# Two machines at once on the 2-core machines (each test file stays on one worker,
# so a module's shared machine boots once).
jobs=${SYSTEM_JOBS:-2}
if [ "$jobs" != 1 ] && "$py" -c 'import xdist' 2>/dev/null; then
    args+=(-n "$jobs" --dist loadfile)
fi

# Run tests/system unless the arguments name test files or tests themselves.
paths=(tests/system)
for a in "$@"; do
    case "$a" in -*) continue ;; esac
    [ -e "${a%%::*}" ] && paths=()
done

mkdir -p "$BUILD/test-logs"
start=$(date +%s)
set +e
"$py" -m pytest "${args[@]}" "${paths[@]}" "$@"
rc=$?
set -e
echo "system: pytest exit $rc after $(( $(date +%s) - start )) s; logs in $BUILD/test-logs/"
exit $rc
