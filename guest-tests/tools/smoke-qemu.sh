#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Smoke test of the test guests' runtime without Sidecore: boots each
# multiboot2 image through GRUB (grub-mkrescue ISO, `multiboot2 /guest.elf`),
# each multiboot v1 image by `multiboot /guest.elf`,
# and each ELF64 image through elf64-boot (`multiboot2 /elf64-boot.elf`,
# `module2 /guest.elf`), in bare QEMU (TCG), captures COM1 and checks that
# the guest started, saw no
# Sidecore ("no sidecore: skipping hypercalls"), ran to its RESULT line and
# ended through QEMU's isa-debug-exit port with exit code = its FAIL count.
# Checks that need Sidecore FAIL here by design; their FAIL lines are shown.
# Usage: smoke-qemu.sh WORKDIR ELF64-BOOT.elf IMAGE.elf ...
set -euo pipefail
work=$1
loader=$2
shift 2
mkdir -p "$work"
timeout_s=${SMOKE_TIMEOUT:-60}
bad=0

for img in "$@"; do
    name=$(basename "$img" .elf)
    iso_root=$work/$name.root
    rm -rf "$iso_root"
    mkdir -p "$iso_root/boot/grub"
    cp "$img" "$iso_root/guest.elf"
    if readelf -h "$img" | grep -q 'Class:[[:space:]]*ELF64'; then
        cp "$loader" "$iso_root/elf64-boot.elf"
        boot="multiboot2 /elf64-boot.elf"$'\n'"    module2 /guest.elf"
        format="ELF64, 64-bit"
    elif python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read(8192)
sys.exit(0 if any(struct.unpack_from("<I", d, o)[0] == 0x1BADB002 for o in range(0, len(d) - 3, 4)) else 1)' "$img"; then
        boot="multiboot /guest.elf"
        format="multiboot v1, 32-bit"
    else
        boot="multiboot2 /guest.elf"
        format="multiboot2, 32-bit"
    fi
    printf 'set timeout=0\nmenuentry "guest" {\n    %s\n    boot\n}\n' "$boot" \
        >"$iso_root/boot/grub/grub.cfg"
    grub-mkrescue -d /usr/lib/grub/i386-pc -o "$work/$name.iso" "$iso_root" \
        >"$work/$name.mkrescue.log" 2>&1 || { cat "$work/$name.mkrescue.log" >&2; exit 1; }
    log=$work/$name.serial.log
    rm -f "$log"
    set +e
    timeout "$timeout_s" qemu-system-x86_64 -machine pc -m 128 -display none -no-reboot \
        -cdrom "$work/$name.iso" -serial "file:$log" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 >"$work/$name.qemu.log" 2>&1
    rc=$?
    set -e
    problems=()
    grep -q "^$name: start ($format image" "$log" || problems+=("no start line")
    grep -q "^no sidecore: skipping hypercalls$" "$log" || problems+=("no 'no sidecore' line")
    result=$(grep -E '^RESULT [0-9]+ passed, [0-9]+ failed$' "$log" || true)
    fails=$(grep -c '^FAIL ' "$log" || true)
    passes=$(grep -c '^PASS ' "$log" || true)
    if [ -z "$result" ]; then
        problems+=("no RESULT line")
    else
        [ "$result" = "RESULT $passes passed, $fails failed" ] ||
            problems+=("'$result' disagrees with $passes PASS / $fails FAIL lines")
        [ "$rc" = $(((fails & 255) * 2 + 1)) ] || problems+=("QEMU exit $rc, expected $((fails * 2 + 1))")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        echo "smoke ok   $name: $result (QEMU exit $rc)"
    else
        echo "smoke FAIL $name: ${problems[*]} (log $log)"
        bad=$((bad + 1))
    fi
    grep '^FAIL ' "$log" | sed 's/^/             /' || true
done
echo "smoke: $(($# - bad)) ok, $bad failed"
[ "$bad" -eq 0 ]
