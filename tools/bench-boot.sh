#!/usr/bin/env bash
# Boot-time benchmark of the default Linux guest (`make bench-boot`; not part of
# `make test`): the same kernel and initramfs booted bare and under Sidecore in
# one emulator (Bochs, or QEMU/SVM with --emulator svm; equal CPU counts), over
# several rounds alternating the sides, and a table of medians and spreads of
# wall time to userspace, the guest's own uptime there, and its exits by reason
# under Sidecore. Arguments go to tools/linux-guest/bench_boot.py (--emulator,
# --rounds, --json, --config, --guest, --timeout, --only bare|sidecore,
# --extra-cmdline, --bare-tsc-khz). In Bochs bare Linux gets tsc_early_khz= so
# both guests run on one clock. Images come from $BUILD (default build/); in
# Bochs it takes many minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
export PYTHONDONTWRITEBYTECODE=1
py=${PYTHON:-/usr/bin/python3}
[ -x "$py" ] || py=python3
for f in "$BUILD/sidecore.elf" "$BUILD/BOOTX64.EFI" "$BUILD/linux/one-vcpu.cfg"; do
    [ -f "$f" ] || { echo "bench-boot: $f missing (make BUILD=$BUILD images linux-guest)" >&2; exit 1; }
done
exec "$py" tools/linux-guest/bench_boot.py "$@" </dev/null
