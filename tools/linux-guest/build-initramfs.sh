#!/usr/bin/env bash
# Builds the default Linux guest's initramfs: busybox (Debian's busybox-static) and
# tools/linux-guest/init, packed as a newc cpio archive and compressed with gzip.
#
# Usage: tools/linux-guest/build-initramfs.sh OUT.gz INIT [MODULES_DIR]
#   MODULES_DIR (optional) holds *.ko files and a load-order file (as
#   fetch-kernel.sh writes them); they go to /lib/modules/ and init loads them.
# Environment: BUSYBOX (default: the busybox of the busybox-static package).
#
# No root needed: every file is owned by 0:0 in the archive, and /dev/console
# (which the kernel opens for init before anything is mounted) is written as a
# hand-made newc entry, since making the node itself would need mknod. Timestamps
# are zero, so the same inputs give the same bytes.
set -euo pipefail
out=$1
init=$2
modules=${3:-}
busybox=${BUSYBOX:-}
if [ -z "$busybox" ]; then
    busybox=$(dpkg -L busybox-static 2>/dev/null | grep -m1 '/busybox$' || true)
fi
[ -n "$busybox" ] && [ -x "$busybox" ] ||
    { echo "initramfs: no busybox (install busybox-static: tools/install-deps.sh)" >&2; exit 1; }
# A dynamically linked busybox would need its libraries in the initramfs too.
! readelf -l "$busybox" 2>/dev/null | grep -q 'Requesting program interpreter' ||
    { echo "initramfs: $busybox is not statically linked (busybox-static's is)" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc,lib}
cp "$busybox" "$stage/bin/busybox"
cp "$init" "$stage/init"
chmod 0755 "$stage/init" "$stage/bin/busybox"
# One symlink per applet, where busybox would install it.
"$busybox" --list-full | while read -r applet; do
    [ -e "$stage/$applet" ] || [ -L "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
if [ -n "$modules" ]; then
    mkdir -p "$stage/lib/modules"
    cp "$modules"/*.ko "$modules/load-order" "$stage/lib/modules/"
fi
find "$stage" -exec touch -h -d @0 {} +

# newc_entry NAME MODE RDEV_MAJOR RDEV_MINOR: a header-only entry (directory or
# device node). Fields: magic, ino, mode, uid, gid, nlink, mtime, filesize,
# devmajor, devminor, rdevmajor, rdevminor, namesize, check; name and header are
# padded to a multiple of 4 bytes.
newc_entry() {
    local name=$1 mode=$2 major=$3 minor=$4 ino=$5
    local namesize=$(( ${#name} + 1 ))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        "$ino" "$mode" 0 0 1 0 0 0 0 "$major" "$minor" "$namesize" 0
    printf '%s\0' "$name"
    local pad=$(( (4 - (110 + namesize) % 4) % 4 ))
    head -c "$pad" /dev/zero
}

mkdir -p "$(dirname "$out")"
{
    # The kernel unpacks concatenated archives in order: /dev and its console
    # first, then everything else.
    newc_entry dev $((0040755)) 0 0 1
    newc_entry dev/console $((0020600)) 5 1 2
    newc_entry TRAILER!!! 0 0 0 0
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible)
} | gzip -n -9 >"$out.tmp"
mv "$out.tmp" "$out"
echo "initramfs: $out ($(stat -c %s "$out") bytes, busybox $("$busybox" | head -n1 | awk '{print $2}')${modules:+, modules from $modules})"
