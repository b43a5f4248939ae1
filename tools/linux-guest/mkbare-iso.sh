#!/usr/bin/env bash
# Makes a GRUB ISO that boots a Linux kernel and initrd directly, without Sidecore:
# the bare baseline of the boot benchmark and a check that the guest's kernel and
# initramfs work at all (Bochs cannot load a kernel the way QEMU's -kernel does).
# Usage: tools/linux-guest/mkbare-iso.sh OUT.iso VMLINUZ INITRD CMDLINE...
set -euo pipefail
out=$1
kernel=$2
initrd=$3
shift 3
cmdline="$*"
work=$(mktemp -d "${TMPDIR:-/tmp}/bare-iso.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/boot/grub"
cp "$kernel" "$root/vmlinuz"
cp "$initrd" "$root/initrd.gz"
cat >"$root/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
menuentry "Linux (bare)" {
    linux /vmlinuz $cmdline
    initrd /initrd.gz
}
CFG
mkdir -p "$(dirname "$out")"
grub-mkrescue -o "$out" "$root" >"$work/grub-mkrescue.log" 2>&1 ||
    { cat "$work/grub-mkrescue.log" >&2; exit 1; }
echo "bare-iso: $out ($cmdline)"
