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
    # charts from console logs and benchmark files (tools/sidecore-plot)
    python3-matplotlib
    # `script` (runs Bochs under a pseudo-terminal)
    bsdutils
    "$@"
)

# QEMU 8 or later (for `-device igb` and x2APIC under TCG) comes from Debian's
# bookworm-backports suite: Debian 12's own QEMU is 7.2. The suite is added once
# (a sources file of ours), and QEMU is installed from it when the installed one
# is older than 8.
qemu_major() {
    qemu-system-x86_64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p'
}
install_backports_qemu() {
    local major
    major=$(qemu_major)
    if [ -n "$major" ] && [ "$major" -ge 8 ]; then
        return 0
    fi
    local list=/etc/apt/sources.list.d/sidecore-bookworm-backports.sources
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "deps: adding Debian's bookworm-backports suite ($list) for QEMU 8 or later"
        "${sudo[@]}" tee "$list" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    echo "deps: installing qemu-system-x86 from bookworm-backports"
    "${sudo[@]}" apt-get update -q </dev/null || {
        echo "deps: ERROR: apt-get update failed" >&2
        exit 1
    }
    "${sudo[@]}" apt-get install -y -q --no-install-recommends -t bookworm-backports \
        qemu-system-x86 </dev/null || {
        echo "deps: ERROR: installing QEMU from bookworm-backports failed" >&2
        exit 1
    }
    echo "deps: $(qemu-system-x86_64 --version | head -n 1)"
}

# dpkg-query prints one status line per package it knows; a package it has
# never heard of goes to stderr and counts as missing.
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${binary:Package}\n' "${packages[@]}" \
    2>/dev/null | awk '$1 == "ii" { sub(/:.*/, "", $2); print $2 }' || true)
missing=()
for p in "${packages[@]}"; do
    grep -qxF "$p" <<<"$installed" || missing+=("$p")
done

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing[@]} -eq 0 ]; then
    install_backports_qemu
    echo "deps: all ${#packages[@]} packages installed"
    exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "deps: missing packages (${missing[*]}) and not root; install them as root" >&2
    exit 1
fi
if ! "${sudo[@]}" apt-get update -q </dev/null; then
    echo "deps: ERROR: apt-get update failed" >&2
    exit 1
fi
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null; then
    echo "deps: ERROR: apt-get install ${missing[*]} failed" >&2
    exit 1
fi
echo "deps: installed ${missing[*]}"
install_backports_qemu
