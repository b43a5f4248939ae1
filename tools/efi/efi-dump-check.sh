#!/usr/bin/env bash
# Usage: efi-dump-check.sh usb|pxe-noipxe BUILD NAME HOSTFILE: boots, then dumps the
# hand-off file NAME from guest memory (address/size from the log) and compares it with HOSTFILE.
set -u
mode=$1 build=$2 name=$3 host=$4
vars=$(mktemp /tmp/ovmf-vars.XXXXXX); cp /usr/share/OVMF/OVMF_VARS.fd "$vars"
log=/tmp/efi-dump.log; mon=/tmp/efi-mon.sock; rm -f "$mon"; : >"$log"
case $mode in
usb) dev=(-device qemu-xhci,id=x -drive if=none,id=u,format=raw,file="$build/sidecore-usb.img" -device usb-storage,bus=x.0,drive=u -net none) ;;
pxe-noipxe) dev=(-netdev user,id=n0,tftp="$build/pxe",bootfile=BOOTX64.EFI -device virtio-net-pci,netdev=n0,bootindex=0,romfile=) ;;
esac
timeout 60 qemu-system-x86_64 -M q35 -m 1024 -smp 4 -serial "file:$log" -display none -no-reboot \
  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd -drive if=pflash,format=raw,file="$vars" \
  -monitor unix:$mon,server,nowait "${dev[@]}" </dev/null >/dev/null 2>&1 &
q=$!
for i in $(seq 120); do grep -qa "sidecore: ready" "$log" && break; sleep 0.5; done
# Either log format: "file NAME at ADDR, SIZE bytes" or "boot file NAME: SIZE bytes at 0xADDR".
line=$(grep -aE "file $name( at|:)" "$log" | tr -d '\r' | head -1)
if echo "$line" | grep -q "boot file"; then
    size=$(echo "$line" | sed -n 's/.*: \([0-9]*\) bytes at 0x\([0-9a-f]*\).*/\1/p')
    addr=$(echo "$line" | sed -n 's/.*: \([0-9]*\) bytes at 0x\([0-9a-f]*\).*/\2/p')
else
    addr=$(echo "$line" | sed -n 's/.* at \([0-9a-f]*\), \([0-9]*\) bytes.*/\1/p')
    size=$(echo "$line" | sed -n 's/.* at \([0-9a-f]*\), \([0-9]*\) bytes.*/\2/p')
fi
echo "pmemsave 0x$addr $size \"/tmp/efi-dump.bin\"" | python3 -c '
import socket,sys,time
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(0.3)
s.send(sys.stdin.read().encode()); time.sleep(1.5); s.send(b"quit\n"); time.sleep(0.5)' $mon
wait $q 2>/dev/null; rm -f "$vars"
cmp /tmp/efi-dump.bin "$host" && echo "$mode: $name at 0x$addr ($size bytes) matches $host"
