#!/usr/bin/env bash
# Builds the NVMe benchmark's Linux initramfs (`make bench-nvme`): the default
# guest's busybox initramfs (build-initramfs.sh) with tools/linux-guest/init-fio as
# /init and the kernel's modules, followed by a second archive holding Debian's fio,
# every shared library it needs (ldd) and the dynamic loader, at the paths ldd
# names. The kernel unpacks concatenated archives one after the other, so the
# default initramfs script stays as it is.
#
# Usage: tools/linux-guest/build-fio-initramfs.sh OUT.gz MODULES_DIR
# Environment: FIO (default: the fio on PATH, package fio: tools/install-deps.sh).
#
# Debian's fio links the Ceph, GlusterFS, RDMA and PMEM engines' libraries, so
# the second archive is large (about 80 MB unpacked); the guest needs the memory
# for it. No root needed; timestamps are zero, so the same inputs give the same bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
modules=$2
fio=${FIO:-$(command -v fio || true)}
[ -n "$fio" ] && [ -x "$fio" ] ||
    { echo "fio-initramfs: no fio (install the fio package: tools/install-deps.sh)" >&2; exit 1; }
[ -f "$modules/load-order" ] ||
    { echo "fio-initramfs: $modules/load-order missing (tools/linux-guest/fetch-kernel.sh)" >&2; exit 1; }
grep -qx 'nvme.ko' "$modules/load-order" ||
    { echo "fio-initramfs: $modules has no nvme.ko" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fio-initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$here/build-initramfs.sh" "$tmp/base.gz" "$here/init-fio" "$modules" >/dev/null

stage=$tmp/stage
mkdir -p "$stage/usr/bin" "$stage/lib64"
cp "$fio" "$stage/usr/bin/fio"
# ldd lines: "libX.so.N => /path (0x...)" and the loader as "/lib64/ld-linux-x86-64.so.2 (0x...)".
# A library ldd cannot find makes fio unusable in the guest: stop here instead.
libs=$(ldd "$fio") || { echo "fio-initramfs: ldd $fio failed" >&2; exit 1; }
if grep -q 'not found' <<<"$libs"; then
    echo "fio-initramfs: fio's libraries are missing on this machine:" >&2
    grep 'not found' <<<"$libs" >&2
    exit 1
fi
count=0
while read -r path; do
    # Copy the file itself (ldd names symlinks) to the path the loader looks under.
    mkdir -p "$stage$(dirname "$path")"
    cp "$(readlink -f "$path")" "$stage$path"
    count=$((count + 1))
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' <<<"$libs")
loader=$(awk '$1 ~ /^\/.*ld-linux/ { print $1 }' <<<"$libs")
[ -n "$loader" ] || { echo "fio-initramfs: ldd names no dynamic loader for $fio" >&2; exit 1; }
mkdir -p "$stage$(dirname "$loader")"
cp "$(readlink -f "$loader")" "$stage$loader"
find "$stage" -exec touch -h -d @0 {} +

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -6 >"$tmp/fio.gz"
mkdir -p "$(dirname "$out")"
cat "$tmp/base.gz" "$tmp/fio.gz" >"$out.tmp"
mv "$out.tmp" "$out"
echo "fio-initramfs: $out ($(stat -c %s "$out") bytes; fio $("$fio" --version), $count libraries)"
