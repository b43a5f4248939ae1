#!/usr/bin/env bash
# Installs the Debian packages that building and testing Sidecore need
# (`make deps`). Idempotent and non-interactive: it asks dpkg which packages
# are missing, and only if some are does it run `apt-get update` once and
# install them. Nothing missing costs one dpkg-query call.
# Arguments name further packages a target needs beyond these (`make bench-nvme`
# passes fio, which `make test` does not need).
set -euo pipefail

packages=(
    # build; libclang-rt-14-dev holds libFuzzer (`make fuzz`), only a Recommends of clang
    build-essential nasm gnu-efi clang clang-format libclang-rt-14-dev
    # images: GRUB for BIOS and UEFI, ISO, FAT and GPT tools
    grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools dosfstools fdisk
    # guest payloads: the Linux guest's initramfs (busybox, cpio); the stock kernel
    # comes from `apt-get download linux-image-amd64` (apt, dpkg-deb, xz)
    busybox-static cpio xz-utils
    # emulators and firmware
    qemu-system-x86 ovmf ipxe-qemu bochs bochsbios vgabios bochs-term
    # tests: unit (cmocka), system (pytest), ACPI table tools
    libcmocka-dev python3 python3-pytest python3-pytest-timeout python3-pytest-xdist
    python3-pexpect acpica-tools
    # `script` (runs Bochs under a pseudo-terminal)
    bsdutils
    "$@"
)

# dpkg-query prints one status line per package it knows; a package it has
# never heard of goes to stderr and counts as missing.
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${binary:Package}\n' "${packages[@]}" \
    2>/dev/null | awk '$1 == "ii" { sub(/:.*/, "", $2); print $2 }' || true)
missing=()
for p in "${packages[@]}"; do
    grep -qxF "$p" <<<"$installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} packages installed"
    exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
        echo "deps: missing packages (${missing[*]}) and not root; install them as root" >&2
        exit 1
    }
    sudo=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -q </dev/null; then
    echo "deps: ERROR: apt-get update failed" >&2
    exit 1
fi
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null; then
    echo "deps: ERROR: apt-get install ${missing[*]} failed" >&2
    exit 1
fi
echo "deps: installed ${missing[*]}"
