#!/usr/bin/env bash
# Boots Sidecore in an emulator with its serial console on this terminal (`make run`).
#
# Which emulator: QEMU with KVM (-enable-kvm -cpu host, nested VT-x) when /dev/kvm
# exists and this CPU has the vmx flag; otherwise Bochs with its VT-x CPU model
# (corei7_skylake_x), since QEMU's TCG cannot emulate VT-x. Override:
#   RUN_EMULATOR=qemu|bochs   (qemu without KVM runs TCG: no VT-x in the guest)
#   RUN_SMP=N RUN_MEM=MiB     CPUs and memory (default 2 CPUs; 1024 MiB QEMU, 512 Bochs)
#   RUN_FIRMWARE=bios|ovmf RUN_MEDIA=iso|usb|pxe   (QEMU only; default SeaBIOS + ISO)
# Images come from $BUILD (default build/).
#
# Quit: Ctrl-] (the console is raw: Ctrl-C goes to the guest). The emulator is
# killed when you quit; the console log is kept in $BUILD/test-logs/run.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
py=${PYTHON:-/usr/bin/python3}
[ -x "$py" ] || py=python3

kvm_vmx=no
if [ -e /dev/kvm ] && grep -qw vmx /proc/cpuinfo; then
    kvm_vmx=yes
fi

emulator=${RUN_EMULATOR:-}
case "$emulator" in
"")
    if [ $kvm_vmx = yes ]; then
        emulator=qemu
        why="/dev/kvm exists and the CPU has VT-x (vmx): QEMU with KVM, nested VT-x"
    else
        emulator=bochs
        kvm=$([ -e /dev/kvm ] && echo present || echo absent)
        vmx=$(grep -qw vmx /proc/cpuinfo && echo yes || echo no)
        why="no KVM with VT-x here (/dev/kvm $kvm, vmx flag $vmx);"
        why="$why QEMU's TCG has no VT-x, so Bochs with its VT-x CPU model"
    fi
    ;;
qemu) why="RUN_EMULATOR=qemu" ;;
bochs) why="RUN_EMULATOR=bochs" ;;
*)
    echo "run: RUN_EMULATOR must be qemu or bochs, not '$emulator'" >&2
    exit 2
    ;;
esac

args=(--emulator "$emulator" --smp "${RUN_SMP:-2}")
if [ "$emulator" = qemu ]; then
    args+=(--memory "${RUN_MEM:-1024}")
    args+=(--firmware "${RUN_FIRMWARE:-bios}" --media "${RUN_MEDIA:-iso}")
    if [ $kvm_vmx = yes ]; then
        args+=(--kvm)
    else
        why="$why; no KVM with VT-x, so TCG (the guest sees no VT-x)"
    fi
else
    args+=(--memory "${RUN_MEM:-512}")
fi

echo "run: $emulator ($why)"
echo "run: Ctrl-] quits"
exec "$py" tests/system/machine.py "${args[@]}"
