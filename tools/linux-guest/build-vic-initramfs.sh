#!/usr/bin/env bash
# Builds the coalescing measurement's Linux initramfs (initrd-vic.gz): the default
# busybox initramfs with tools/linux-guest/init-vic as /init and the kernel's
# modules (build-initramfs.sh), followed by a second archive holding the static
# reader qdread at /usr/bin/qdread. The kernel unpacks concatenated archives in order.
#
# Usage: tools/linux-guest/build-vic-initramfs.sh OUT.gz MODULES_DIR QDREAD
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
modules=$2
qdread=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vic-initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$here/build-initramfs.sh" "$tmp/base.gz" "$here/init-vic" "$modules" >/dev/null
mkdir -p "$tmp/stage/usr/bin"
cp "$qdread" "$tmp/stage/usr/bin/qdread"
chmod 0755 "$tmp/stage/usr/bin/qdread"
find "$tmp/stage" -exec touch -h -d @0 {} +
(cd "$tmp/stage" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -6 >"$tmp/qdread.gz"
cat "$tmp/base.gz" "$tmp/qdread.gz" >"$out.tmp"
mv "$out.tmp" "$out"
