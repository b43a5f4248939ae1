#!/usr/bin/env bash
# Usage: efi-boot-until.sh usb|pxe|pxe-noipxe|iso BUILD_DIR LOG [PATTERN]
# Boots under QEMU+OVMF (serial to LOG), stops at PATTERN (default "sidecore: ready")
# or after 60 s; exit 0 if PATTERN was seen.
set -u
mode=$1 build=$2 log=$3 pat=${4:-"sidecore: ready"}
vars=$(mktemp /tmp/ovmf-vars.XXXXXX)
cp /usr/share/OVMF/OVMF_VARS.fd "$vars"
common=(-M q35 -m 1024 -smp 4 -serial "file:$log" -display none -no-reboot
  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd
  -drive if=pflash,format=raw,file="$vars")
case $mode in
usb) dev=(-device qemu-xhci,id=x -drive if=none,id=u,format=raw,file="$build/sidecore-usb.img"
      -device usb-storage,bus=x.0,drive=u -net none) ;;
pxe) dev=(-netdev user,id=n0,tftp="$build/pxe",bootfile=BOOTX64.EFI
      -device virtio-net-pci,netdev=n0,bootindex=0) ;;
pxe-noipxe) dev=(-netdev user,id=n0,tftp="$build/pxe",bootfile=BOOTX64.EFI
      -device virtio-net-pci,netdev=n0,bootindex=0,romfile=) ;;
iso) dev=(-cdrom "$build/sidecore.iso" -net none) ;;
esac
: >"$log"
timeout 60 qemu-system-x86_64 "${common[@]}" "${dev[@]}" </dev/null >/dev/null 2>&1 &
qpid=$!
start=$(date +%s)
found=1
while kill -0 $qpid 2>/dev/null; do
    if grep -qa "$pat" "$log"; then found=0; break; fi
    sleep 0.5
done
grep -qa "$pat" "$log" && found=0
kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
rm -f "$vars"
echo "[$mode: $( [ $found = 0 ] && echo "found '$pat'" || echo "NOT found '$pat'" ) after $(( $(date +%s) - start )) s]"
exit $found
