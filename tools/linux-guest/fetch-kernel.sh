#!/usr/bin/env bash
# Fetches Debian's stock kernel, exactly as shipped, for the default Linux guest.
#
# linux-image-amd64 is a metapackage; its dependency (linux-image-6.1.0-NN-amd64)
# holds the kernel. That package is downloaded with `apt-get download` (once: the
# .deb is kept in the cache directory and reused on later builds) and only the parts
# we use are unpacked into OUT:
#   OUT/vmlinuz              the bzImage, byte for byte as in the package
#   OUT/kernel-config        its build config (boot/config-*)
#   OUT/kernel-release       e.g. 6.1.0-56-amd64
#   OUT/modules/             the modules later issues need (virtio, virtio_pci,
#                            virtio_blk, virtio_net, virtio_console, nvme, pvpanic-mmio, and every
#                            module they depend on per modules.dep), with
#                            modules/load-order listing them dependencies first
# Usage: tools/linux-guest/fetch-kernel.sh OUT
# Environment: LINUX_DEB_CACHE (default OUT/debs) where the .deb is kept;
#   LINUX_PACKAGE names the kernel package instead of resolving linux-image-amd64.
# Non-interactive, stdin unused; runs `apt-get update` once if apt does not know
# the package yet.
set -euo pipefail
out=$1
cache=${LINUX_DEB_CACHE:-$out/debs}
mkdir -p "$out" "$cache"
exec </dev/null

say() { echo "linux-guest: $*"; }
die() { echo "linux-guest: ERROR: $*" >&2; exit 1; }

# The real kernel package behind the metapackage.
resolve() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

pkg=${LINUX_PACKAGE:-}
if [ -z "$pkg" ]; then
    # A .deb fetched before wins: the kernel does not change under a build directory
    # just because the archive moved on (delete the cache to take the newest).
    cached=$(ls "$cache"/linux-image-[0-9]*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$cached" ]; then
        pkg=$(dpkg-deb -f "$cached" Package)
    else
        pkg=$(resolve)
        if [ -z "$pkg" ]; then
            say "apt does not know linux-image-amd64 yet: apt-get update"
            sudo=()
            [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
            "${sudo[@]}" apt-get update -q || die "apt-get update failed"
            pkg=$(resolve)
        fi
        [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package (apt-cache depends linux-image-amd64)"
    fi
fi

deb=$(ls "$cache/${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$deb" ]; then
    # apt's own archive may already hold it (installed or downloaded before).
    deb=$(ls /var/cache/apt/archives/"${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$deb" ]; then
        cp "$deb" "$cache/"
    else
        say "downloading $pkg (apt-get download)"
        tmp=$(mktemp -d "$cache/dl.XXXXXX")
        # -o APT::Sandbox::User=root: as root, apt would otherwise try (and warn
        # about) dropping to _apt, which cannot write to our directory.
        (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg") ||
            { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
        mv "$tmp"/*.deb "$cache/"
        rmdir "$tmp"
    fi
    deb=$(ls "$cache/${pkg}"_*_amd64.deb | sort -V | tail -n 1)
fi
say "kernel package $(basename "$deb")"

# Unpack only what we use: the full package is about 400 MB of modules.
stage=$out/.unpack
rm -rf "$stage"
mkdir -p "$stage"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$stage" --wildcards './boot/vmlinuz-*' './boot/config-*'
release=$(cd "$stage/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//')
[ -n "$release" ] && [ "$(wc -w <<<"$release")" -eq 1 ] ||
    die "$(basename "$deb") holds no single boot/vmlinuz-*"

# Modules for later issues (virtio and NVMe devices, pvpanic), each after the
# modules it depends on. The package ships no modules.dep (depmod makes it at
# install time), so the dependencies come from each module's own "depends=" field.
# crct10dif_generic and crc64_rocksoft_generic are soft dependencies of nvme's
# crc-t10dif and crc64-rocksoft (they provide the algorithms those ask for).
wanted="virtio virtio_pci virtio_blk virtio_net crct10dif_generic crc64_rocksoft_generic nvme
    pvpanic-mmio"
# virtio_console (drivers/char/): the virtio console scenario's /dev/hvc0.
wanted="$wanted virtio_console"
listing=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep '\.ko$')
order=()
declare -A seen=()
add_module() { # NAME (- and _ are the same in module names)
    local name=${1//-/_} path deps d
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    path=$(awk -v n="$name" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b)
                               if (b == n) { print; exit } }' <<<"$listing")
    [ -n "$path" ] || die "module $name is not in $(basename "$deb")"
    # Not among the directories unpacked below: one more pass over the package.
    [ -f "$stage/$path" ] || dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$stage" "$path"
    deps=$(strings -a "$stage/$path" | sed -n 's/^depends=//p' | head -n 1)
    for d in ${deps//,/ }; do add_module "$d"; done
    order+=("$path")
}
# One pass unpacks the directories these modules and their dependencies live in
# (each further pass costs seconds of xz decompression).
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$stage" --wildcards --no-wildcards-match-slash \
    './lib/modules/*/kernel/drivers/virtio/*.ko' './lib/modules/*/kernel/drivers/block/*.ko' \
    './lib/modules/*/kernel/drivers/net/*.ko' './lib/modules/*/kernel/drivers/nvme/host/*.ko' \
    './lib/modules/*/kernel/drivers/misc/pvpanic/*.ko' './lib/modules/*/kernel/lib/*.ko' \
    './lib/modules/*/kernel/crypto/*.ko' './lib/modules/*/kernel/block/*.ko' \
    './lib/modules/*/kernel/net/core/*.ko'
for m in $wanted; do add_module "$m"; done

rm -rf "$out/modules"
mkdir -p "$out/modules"
: >"$out/modules/load-order"
for p in "${order[@]}"; do
    cp "$stage/$p" "$out/modules/"
    basename "$p" >>"$out/modules/load-order"
done
cp "$stage/boot/config-$release" "$out/kernel-config"
echo "$release" >"$out/kernel-release"
# vmlinuz last: it is the make target, so a failed run leaves none behind.
cp "$stage/boot/vmlinuz-$release" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
rm -rf "$stage"
say "$out/vmlinuz ($release, $(stat -c %s "$out/vmlinuz") bytes); ${#order[@]} modules in $out/modules/"
