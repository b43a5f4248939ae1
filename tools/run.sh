#!/usr/bin/env bash
# Boots Sidecore in an emulator with its serial console on this terminal (`make run`).
#
# Which emulator: QEMU with KVM (-enable-kvm -cpu host, nested VT-x or AMD-V) when
# /dev/kvm exists and this CPU has the vmx or svm flag; otherwise QEMU's TCG with an
# AMD CPU that has SVM and nested paging (-cpu EPYC,+svm,+npt: Sidecore's AMD-V
# backend, seconds to a Linux prompt); Bochs with its VT-x CPU model
# (corei7_skylake_x) only without QEMU, or when asked for. Override:
#   RUN_EMULATOR=qemu|bochs   (qemu without KVM runs TCG with SVM)
#   RUN_BOCHS=own|stock|PATH  which Bochs: own = the project's 3.0 (`make bochs`,
#                             posted interrupts; the default when built), stock =
#                             Debian's 2.7 (the default otherwise)
#   RUN_SMP=N RUN_MEM=MiB     CPUs and memory (default: see Guests; 1024 MiB QEMU, 512 Bochs)
#   RUN_FIRMWARE=bios|ovmf RUN_MEDIA=iso|usb|pxe   (QEMU only; default SeaBIOS + ISO)
# Images come from $BUILD (default build/).
#
# Guests: RUN_CONFIG names the configuration to boot, default $BUILD/linux/default.cfg
# (the default Linux guest, `make linux-guest`: Debian's stock kernel and a busybox
# shell on its console, whose lines appear as "[linux0] ..."). The images are built
# around it in $BUILD/images/run/. RUN_CONFIG=none boots $BUILD's own images. The
# default RUN_SMP is the boot CPU plus every core the config's guests ask for, plus
# one for the I/O sidecore when a guest's disk is served by one.
#
# Quit: Ctrl-] (the console is raw: Ctrl-C goes to the guest). The emulator is
# killed when you quit; the console log is kept in $BUILD/images/run/test-logs/run.log
# ($BUILD/test-logs/run.log with RUN_CONFIG=none).
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
py=${PYTHON:-/usr/bin/python3}
[ -x "$py" ] || py=python3

kvm_vmx=no
if [ -e /dev/kvm ] && grep -qw -e vmx -e svm /proc/cpuinfo; then
    kvm_vmx=yes
fi

emulator=${RUN_EMULATOR:-}
case "$emulator" in
"")
    kvm=$([ -e /dev/kvm ] && echo present || echo absent)
    vmx=$(grep -qw -e vmx -e svm /proc/cpuinfo && echo yes || echo no)
    if [ $kvm_vmx = yes ]; then
        emulator=qemu
        why="/dev/kvm exists and the CPU has VT-x or AMD-V: QEMU with KVM, nested virtualization"
    elif command -v qemu-system-x86_64 >/dev/null; then
        emulator=qemu
        why="no KVM with VT-x or AMD-V here (/dev/kvm $kvm, vmx/svm flag $vmx)"
    else
        emulator=bochs
        why="no KVM with VT-x or AMD-V here (/dev/kvm $kvm, vmx/svm flag $vmx) and no QEMU:"
        why="$why Bochs with its VT-x CPU model"
    fi
    ;;
qemu) why="RUN_EMULATOR=qemu" ;;
bochs) why="RUN_EMULATOR=bochs" ;;
*)
    echo "run: RUN_EMULATOR must be qemu or bochs, not '$emulator'" >&2
    exit 2
    ;;
esac

# Resolved before BUILD may move to the per-run image directory below.
default_bochs=stock
[ -x "$BUILD/bochs/bin/bochs" ] && default_bochs=own
bochs=${RUN_BOCHS:-${SIDECORE_BOCHS:-$default_bochs}}
case "$bochs" in
own)
    bochs_bin=$PWD/$BUILD/bochs/bin/bochs
    bochs_what="the project's Bochs 3.0 ($BUILD/bochs/bin/bochs, \`make bochs\`)"
    ;;
stock)
    bochs_bin=stock
    bochs_what="Debian's Bochs 2.7 (/usr/bin/bochs)"
    ;;
*)
    bochs_bin=$(realpath "$bochs")
    bochs_what="Bochs $bochs_bin"
    ;;
esac
if [ "$emulator" = bochs ] && [ "$bochs_bin" != stock ] && [ ! -x "$bochs_bin" ]; then
    echo "run: $bochs_bin missing: \`make BUILD=$BUILD bochs\` builds it (RUN_BOCHS=stock uses Debian's 2.7)" >&2
    exit 1
fi
export SIDECORE_BOCHS=$bochs_bin

config=${RUN_CONFIG-$BUILD/linux/default.cfg}
smp=2
if [ "$config" != none ]; then
    if [ ! -f "$config" ]; then
        echo "run: $config not found: \`make BUILD=$BUILD linux-guest\` builds the default" \
            "Linux guest (RUN_CONFIG=none boots Sidecore without guests)" >&2
        exit 1
    fi
    img=$BUILD/images/run
    if ! out=$(tools/mkimage.sh "$BUILD" "$config" "$img" 2>&1); then
        echo "$out" >&2
        echo "run: building the images around $config failed" >&2
        exit 1
    fi
    # The boot CPU keeps Sidecore's console; every guest core is one more CPU.
    cores=$(sed 's/#.*//' "$config" | awk -F= '$1 ~ /^[ \t]*cpus[ \t]*$/ { n += $2 } END { print n + 0 }')
    # One more for the I/O sidecore when a guest has a disk it serves (one socket).
    sidecores=$(sed 's/#.*//' "$config" | awk -F= '
        /^[ \t]*\[/ { if (disk && !trap) n = 1; disk = 0; trap = 0 }
        $1 ~ /^[ \t]*disk[ \t]*$/ && $2 ~ /[^ \t]/ { disk = 1 }
        $1 ~ /^[ \t]*io[ \t]*$/ && $2 ~ /trap/ { trap = 1 }
        $1 ~ /^[ \t]*sidecores[ \t]*$/ && $2 ~ /^[ \t]*0[ \t]*$/ { none = 1 }
        END { if (disk && !trap) n = 1; print (none ? 0 : n + 0) }')
    smp=$(( cores + sidecores + 1 < 2 ? 2 : cores + sidecores + 1 ))
    guests=$(sed -n 's/^[[:space:]]*\[guest[[:space:]]\{1,\}\([^]]*\)\].*/\1/p' "$config" | xargs)
    echo "run: config $config (guests: ${guests:-none}); images in $img/"
    # machine.py boots $BUILD/sidecore.iso (or -usb.img, pxe/) and logs to $BUILD/test-logs/.
    export BUILD=$img
fi

args=(--emulator "$emulator" --smp "${RUN_SMP:-$smp}")
tcg_cpu=()
if [ "$emulator" = qemu ]; then
    args+=(--memory "${RUN_MEM:-1024}")
    args+=(--firmware "${RUN_FIRMWARE:-bios}" --media "${RUN_MEDIA:-iso}")
    if [ $kvm_vmx = yes ]; then
        args+=(--kvm)
    else
        why="$why; TCG with an AMD CPU that has SVM and nested paging (AMD-V backend)"
        tcg_cpu=(-- -cpu EPYC,+svm,+npt)
    fi
else
    args+=(--memory "${RUN_MEM:-512}")
fi

[ "$emulator" = bochs ] && why="$why; $bochs_what"
echo "run: $emulator ($why)"
if [ "$emulator" = bochs ] && [ "$config" != none ]; then
    echo "run: Bochs emulates every instruction: a Linux guest takes a few minutes to reach its shell"
fi
echo "run: Ctrl-] quits"
exec "$py" tests/system/machine.py "${args[@]}" "${tcg_cpu[@]}"
