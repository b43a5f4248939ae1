#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks built test-guest images against what Sidecore's loader expects.

Usage: check-guest-image.py IMAGE:FORMAT ...   (FORMAT: mb2, mb1, elf32 or elf64)

For every image: an executable ELF of the right class and machine; loadable
segments at or above 1 MiB, physical = virtual, inside the first 8 MiB (so
the image fits an 8M guest), not overlapping, none both writable and
executable, file size <= memory size; the entry point inside an executable
segment. For mb2: a valid multiboot2 header (magic, architecture 0, length,
checksum, well-formed tags ending with the end tag) 8-byte aligned within the
first 32 KiB and inside a loaded segment. For elf32/elf64: no multiboot2
header (the loader would otherwise take the image for a multiboot2 kernel).
Prints one line per image and exits 1 if any check failed.
"""
import struct
import sys

LOAD_MIN = 0x100000
LOAD_MAX = 0x800000
MB2_MAGIC = 0xE85250D6
MB2_SEARCH = 32768
PT_LOAD = 1
PF_X, PF_W = 1, 2


class Bad(Exception):
    pass


def parse_elf(data):
    if data[:4] != b"\x7fELF":
        raise Bad("not an ELF file")
    cls, endian = data[4], data[5]
    if endian != 1:
        raise Bad("not little-endian")
    if cls == 1:
        hdr = struct.unpack_from("<HHIIIIIHHHHHH", data, 16)
        e_type, e_machine, _, e_entry, e_phoff, _, _, _, e_phentsize, e_phnum = hdr[:10]
        ph_fmt = "<IIIIIIII"  # type offset vaddr paddr filesz memsz flags align
    elif cls == 2:
        hdr = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
        e_type, e_machine, _, e_entry, e_phoff, _, _, _, e_phentsize, e_phnum = hdr[:10]
        ph_fmt = "<IIQQQQQQ"  # type flags offset vaddr paddr filesz memsz align
    else:
        raise Bad(f"unknown ELF class {cls}")
    if e_phentsize != struct.calcsize(ph_fmt) or e_phoff + e_phnum * e_phentsize > len(data):
        raise Bad("program header table out of range")
    segs = []
    for i in range(e_phnum):
        f = struct.unpack_from(ph_fmt, data, e_phoff + i * e_phentsize)
        if cls == 1:
            p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, _ = f
        else:
            p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, _ = f
        segs.append(dict(type=p_type, offset=p_offset, vaddr=p_vaddr, paddr=p_paddr,
                         filesz=p_filesz, memsz=p_memsz, flags=p_flags))
    return dict(cls=cls, type=e_type, machine=e_machine, entry=e_entry, segs=segs)


def find_mb2(data):
    """Returns (offset, problem) of the first multiboot2 magic in the search area."""
    for off in range(0, min(len(data), MB2_SEARCH) - 15, 8):
        magic, arch, length, checksum = struct.unpack_from("<IIII", data, off)
        if magic != MB2_MAGIC:
            continue
        if arch != 0:
            return off, f"architecture {arch}, expected 0 (i386)"
        if (magic + arch + length + checksum) & 0xFFFFFFFF:
            return off, "checksum does not make the four fields sum to 0"
        if length < 24 or off + length > len(data):
            return off, f"header_length {length} out of range"
        t = off + 16
        while True:
            if t + 8 > off + length:
                return off, "tags run past header_length without an end tag"
            ttype, _, tsize = struct.unpack_from("<HHI", data, t)
            if tsize < 8 or t + tsize > off + length:
                return off, f"tag type {ttype} has size {tsize} out of range"
            if ttype == 0:
                if tsize != 8:
                    return off, "end tag size is not 8"
                if t + 8 != off + length:
                    return off, "end tag is not at the end of the header"
                return off, None
            t += (tsize + 7) & ~7
    return None, None


MB1_MAGIC = 0x1BADB002
MB1_SEARCH = 8192


def find_mb1(data):
    """File offset of a multiboot v1 header with a valid checksum in the
    first 8 KiB (4-aligned), or None."""
    for off in range(0, min(len(data), MB1_SEARCH) - 11, 4):
        magic, flags, checksum = struct.unpack_from("<III", data, off)
        if magic == MB1_MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            return off
    return None


def check(path, fmt):
    with open(path, "rb") as f:
        data = f.read()
    elf = parse_elf(data)
    want_cls, want_machine = (2, 62) if fmt == "elf64" else (1, 3)
    if elf["cls"] != want_cls or elf["machine"] != want_machine:
        raise Bad(f"class {elf['cls']} machine {elf['machine']}, expected {want_cls}/{want_machine}")
    if elf["type"] != 2:
        raise Bad(f"ELF type {elf['type']}, expected EXEC")
    loads = [s for s in elf["segs"] if s["type"] == PT_LOAD]
    if not loads:
        raise Bad("no PT_LOAD segment")
    ranges = []
    for s in loads:
        lo, hi = s["paddr"], s["paddr"] + s["memsz"]
        if s["vaddr"] != s["paddr"]:
            raise Bad(f"segment at {s['vaddr']:#x} has physical address {s['paddr']:#x}")
        if lo < LOAD_MIN or hi > LOAD_MAX:
            raise Bad(f"segment {lo:#x}-{hi:#x} outside {LOAD_MIN:#x}-{LOAD_MAX:#x}")
        if s["filesz"] > s["memsz"] or s["offset"] + s["filesz"] > len(data):
            raise Bad(f"segment at {lo:#x}: file size out of range")
        if s["flags"] & PF_W and s["flags"] & PF_X:
            raise Bad(f"segment at {lo:#x} is writable and executable")
        for a, b in ranges:
            if lo < b and a < hi:
                raise Bad(f"segments {a:#x}-{b:#x} and {lo:#x}-{hi:#x} overlap")
        ranges.append((lo, hi))
    entry = elf["entry"]
    if not any(s["flags"] & PF_X and s["paddr"] <= entry < s["paddr"] + s["filesz"] for s in loads):
        raise Bad(f"entry {entry:#x} is not in an executable segment")

    off, problem = find_mb2(data)
    if fmt == "mb2":
        if off is None:
            raise Bad(f"no multiboot2 header in the first {MB2_SEARCH} bytes")
        if problem:
            raise Bad(f"multiboot2 header at file offset {off:#x}: {problem}")
        if not any(s["offset"] <= off < s["offset"] + s["filesz"] for s in loads):
            raise Bad(f"multiboot2 header at file offset {off:#x} is not in a loaded segment")
        extra = f", multiboot2 header at file offset {off:#x}"
    else:
        if off is not None:
            raise Bad(f"{fmt} image carries a multiboot2 header at file offset {off:#x}")
        extra = ""
    off1 = find_mb1(data)
    if fmt == "mb1":
        if off1 is None:
            raise Bad(f"no multiboot v1 header in the first {MB1_SEARCH} bytes")
        if not any(s["offset"] <= off1 < s["offset"] + s["filesz"] for s in loads):
            raise Bad(f"multiboot v1 header at file offset {off1:#x} is not in a loaded segment")
        extra = f", multiboot v1 header at file offset {off1:#x}"
    elif off1 is not None:
        raise Bad(f"{fmt} image carries a multiboot v1 header at file offset {off1:#x}")
    segs = " ".join(f"{s['paddr']:#x}+{s['memsz']:#x}" for s in loads)
    return f"entry {entry:#x}, segments {segs}{extra}"


def main(args):
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    failed = 0
    for arg in args:
        path, _, fmt = arg.rpartition(":")
        if fmt not in ("mb2", "mb1", "elf32", "elf64"):
            print(f"FAIL {arg}: unknown format '{fmt}'")
            failed += 1
            continue
        try:
            print(f"ok   {path} ({fmt}): {check(path, fmt)}")
        except (Bad, OSError, struct.error) as e:
            print(f"FAIL {path} ({fmt}): {e}")
            failed += 1
    print(f"check-guest-image: {len(args) - failed} ok, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
