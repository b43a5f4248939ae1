#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the project's own Bochs 3.0 (`make bochs`) and installs it in OUT
# (argument 1, normally build/bochs), with the emulator at OUT/bin/bochs.
#
# Why our own: Debian 12's Bochs 2.7 has no VT-x posted-interrupt processing
# and delivers virtual interrupts with RFLAGS.IF=0 (docs/testing.md). Bochs
# 3.0 processes posted interrupts; tools/bochs/patches/ fixes the IF=0
# erratum, which 3.0 still has. See tools/bochs/README.md.
#
# The result is cached outside the tree, in $SIDECORE_CACHE (default
# /var/cache/sidecore, or ~/.cache/sidecore when that is not writable), as
# bochs-KEY/, KEY being a hash of the tarballs' sums, the patches and this
# script (which holds the configure flags). A build directory whose KEY is
# current is left alone; one whose cache entry exists is copied from it in
# about a second; otherwise the source is fetched (tools/bochs/fetch.sh),
# patched, configured headless and compiled (about 2-4 minutes on 2 cores),
# and the cache entry appears atomically (rename), so concurrent or killed
# builds never leave a half-built entry behind.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT}
jobs=${BOCHS_JOBS:-2}

# Headless and without the debugger: no display and no screen pseudo-terminal
# to drain. What the tests use: VT-x with its level-2 features (EPT, VPID,
# APIC virtualization, posted interrupts), SMP, x86-64, PCI and the e1000;
# AVX and EVEX because the corei7_skylake_x model has them. No IPS display:
# its SIGALRM handler logs through the logger's mutex, so a tick that lands
# while the emulator itself is logging deadlocks Bochs (seen here: a trap-mode
# Linux guest, whose every notify is an EPT violation that Bochs logs, froze
# with the emulator waiting on logio_mutex inside bx_show_ips_handler).
configure_flags=(
    --enable-vmx=2 --enable-smp --enable-x86-64 --enable-cpu-level=6 --enable-pci
    --enable-all-optimizations --enable-e1000 --enable-avx --enable-evex
    --with-nogui --disable-debugger --disable-docbook --disable-show-ips
)

key=$({
    cat "$here/SHA256SUMS" "$0"
    for p in "$here"/patches/*.patch; do
        printf '%s\n' "$(basename "$p")"
        cat "$p"
    done
} | sha256sum | cut -c1-16)

if [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ] && [ -x "$out/bin/bochs" ]; then
    echo "bochs: $out is current (key $key)"
    exit 0
fi

cache_root=${SIDECORE_CACHE:-/var/cache/sidecore}
if ! mkdir -p "$cache_root" 2>/dev/null || [ ! -w "$cache_root" ]; then
    cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/sidecore
    mkdir -p "$cache_root"
fi
cached=$cache_root/bochs-$key

if [ ! -x "$cached/bin/bochs" ]; then
    start=$(date +%s)
    "$here/fetch.sh" "$cache_root/bochs-src"
    work=$(mktemp -d "$cache_root/bochs-build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    echo "bochs: building in $work (key $key; log in $work/build.log while it runs)"
    tar -C "$work" -xf "$cache_root/bochs-src/bochs_3.0+dfsg.orig.tar.xz"
    src=$work/bochs-3.0
    # Debian's own patches (bochs_3.0+dfsg-1.debian.tar.xz) change the BIOS
    # build, the documentation, the sample bochsrc and the manual page; none
    # touches the emulator, so none is applied (tools/bochs/README.md).
    for p in "$here"/patches/*.patch; do
        echo "bochs: applying $(basename "$p")"
        patch -d "$src" -p1 --quiet --no-backup-if-mismatch <"$p"
    done
    (
        cd "$src"
        # No -g: the binary is not debugged here, and it builds faster.
        CFLAGS="-O2 -pipe" CXXFLAGS="-O2 -pipe" ./configure --prefix="$cached" \
            "${configure_flags[@]}" >"$work/build.log" 2>&1
        make -j"$jobs" >>"$work/build.log" 2>&1
        make install DESTDIR="$work/stage" >>"$work/build.log" 2>&1
    ) || {
        echo "bochs: the build failed; the end of its log:" >&2
        tail -40 "$work/build.log" >&2
        exit 1
    }
    cp "$work/build.log" "$work/stage$cached/build.log"
    echo "$key" >"$work/stage$cached/.key"
    # A concurrent build may have finished first: then its entry is kept.
    mv -T "$work/stage$cached" "$cached" 2>/dev/null || true
    [ -x "$cached/bin/bochs" ] || {
        echo "bochs: $cached/bin/bochs missing after the build" >&2
        exit 1
    }
    echo "bochs: built in $(($(date +%s) - start)) s, cached in $cached"
fi

rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -a "$cached" "$out.tmp.$$"
mv -T "$out.tmp.$$" "$out"
echo "bochs: $out/bin/bochs from $cached"
