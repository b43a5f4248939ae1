#!/usr/bin/env bash
# Boot-time benchmark of the default Linux guest (`make bench-boot`; not part of
# `make test`): the same kernel and initramfs booted bare in Bochs and under
# Sidecore in Bochs, one after the other, and a table of wall time to userspace,
# the guest's own uptime there, and its exits by reason under Sidecore.
# Arguments go to tools/linux-guest/bench_boot.py (--config, --guest, --timeout,
# --only bare|sidecore). Images come from $BUILD (default build/); it takes a few
# minutes (Bochs emulates every instruction).
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
