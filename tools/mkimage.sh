#!/usr/bin/env bash
# Builds every boot image around one config:
#   BUILD/sidecore.iso      hybrid GRUB image (BIOS + UEFI, CD or dd to USB)
#   BUILD/sidecore-usb.img  raw GPT disk with an EFI system partition holding
#                           our loader, the hypervisor, the config and its files
#   BUILD/pxe/              TFTP root: BOOTX64.EFI (our loader) + the same files,
#                           and GRUB netboot files for BIOS PXE (boot/grub/)
# Usage: tools/mkimage.sh BUILD CONFIG [OUT]
#   BUILD holds sidecore.elf and BOOTX64.EFI; the images go to OUT (default
#   BUILD), so tests can keep one image set per configuration.
set -euo pipefail
build=$1
cfg=$2
out=${3:-$1}
mkdir -p "$out"
cfgdir=$(dirname "$cfg")
top=$(cd "$(dirname "$0")/.." && pwd)

[ -f "$cfg" ] || { echo "mkimage: config $cfg not found" >&2; exit 1; }
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage"
cp "$build/sidecore.elf" "$stage/sidecore.elf"
cp "$cfg" "$stage/sidecore.cfg"
files=$(tools/config-files.sh "$cfg")
for f in $files; do
    case "$f" in /* | *..*) echo "mkimage: $cfg names '$f': paths must stay below the config's directory" >&2; exit 1 ;; esac
    [ -f "$cfgdir/$f" ] || { echo "mkimage: $cfg names '$f', which does not exist" >&2; exit 1; }
    mkdir -p "$stage/$(dirname "$f")"
    cp "$cfgdir/$f" "$stage/$f"
done

# GRUB config: the hypervisor plus one module per file, named by its path.
grub_cfg() { # PREFIX
    local prefix=$1
    local mods="    module2 --nounzip $prefix/sidecore.cfg sidecore.cfg"
    for f in $files; do
        mods="$mods"$'\n'"    module2 --nounzip $prefix/$f $f"
    done
    awk -v prefix="$prefix" -v mods="$mods" -v cmdline="${SIDECORE_CMDLINE:-}" '
        { gsub(/@PREFIX@/, prefix); gsub(/@CMDLINE@/, cmdline) }
        /@MODULES@/ { print mods; next } { print }' "$top/boot/grub/grub.cfg.in"
}

# ISO (grub-mkrescue makes it hybrid: BIOS and UEFI, CD and USB).
iso_root=$out/isoroot
rm -rf "$iso_root"
mkdir -p "$iso_root/boot/grub" "$iso_root/sidecore"
cp -r "$stage/." "$iso_root/sidecore/"
grub_cfg /sidecore >"$iso_root/boot/grub/grub.cfg"
grub-mkrescue -o "$out/sidecore.iso" "$iso_root" >"$out/grub-mkrescue.log" 2>&1 ||
    { cat "$out/grub-mkrescue.log" >&2; exit 1; }

# USB stick: GPT, one EFI system partition from 1 MiB, FAT32.
img=$out/sidecore-usb.img
size_mib=$(( ($(du -sm "$stage" | cut -f1) + 80) ))
rm -f "$img"
truncate -s "${size_mib}M" "$img"
printf 'label: gpt\nstart=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="SIDECORE"\n' |
    sfdisk -q "$img" >/dev/null
part_sectors=$(( size_mib * 2048 - 2048 - 33 ))
mkfs.vfat -F 32 -n SIDECORE --offset 2048 "$img" $(( part_sectors / 2 )) >/dev/null
esp="$img@@1M"
export MTOOLS_SKIP_CHECK=1
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$build/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -s -i "$esp" "$stage"/* ::/

# PXE: our loader at the top for UEFI clients, GRUB netboot for BIOS clients.
pxe=$out/pxe
rm -rf "$pxe"
mkdir -p "$pxe"
cp -r "$stage/." "$pxe/"
cp "$build/BOOTX64.EFI" "$pxe/BOOTX64.EFI"
grub-mknetdir --net-directory="$pxe" --subdir=boot/grub -d /usr/lib/grub/i386-pc \
    >"$out/grub-mknetdir.log" 2>&1 || { cat "$out/grub-mknetdir.log" >&2; exit 1; }
grub_cfg "" >"$pxe/boot/grub/grub.cfg"
echo "mkimage: $out/sidecore.iso $img $pxe/ (config $cfg)"
