#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vmlinux-pvh.py BZIMAGE OUT: writes the uncompressed kernel inside a Linux
bzImage as a compact ELF that Sidecore boots through the PVH entry (the
kernel's XEN_ELFNOTE_PHYS32_ENTRY note; CONFIG_PVH).

A guest booted from the bzImage first decompresses itself, which in Bochs
costs minutes of emulated instructions per boot; the same kernel as an ELF
starts at once. The payload (its offset and length are in the setup header)
is decompressed here (xz or gzip), and the ELF is rewritten smaller: each
loadable segment loses its trailing zero bytes (the loader zero-fills up to
p_memsz anyway), segments are packed at 4 KiB-aligned offsets and the
section headers are dropped. The note segment is kept, pointed at its bytes
inside the segment that holds them."""

import gzip
import lzma
import struct
import sys

PT_LOAD, PT_NOTE = 1, 4
PVH_NOTE_TYPE = 18


def payload(bz):
    """The compressed kernel from a bzImage (boot protocol 2.08 or later)."""
    if bz[0x202:0x206] != b"HdrS":
        raise SystemExit("vmlinux-pvh: not a bzImage (no HdrS)")
    setup_sects = bz[0x1F1] or 4
    offset, length = struct.unpack_from("<II", bz, 0x248)
    start = (setup_sects + 1) * 512 + offset
    return bz[start:start + length]


def decompress(data):
    if data.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)
    if data.startswith(b"\x1f\x8b"):
        return gzip.decompress(data)
    raise SystemExit(f"vmlinux-pvh: unsupported kernel compression (magic {data[:6].hex()})")


def compact(elf):
    """The ELF64 rewritten as described above."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise SystemExit("vmlinux-pvh: the payload is not a 64-bit ELF")
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize))
             for i in range(phnum)]
    out = bytearray()
    table_at = 64
    data_at = (table_at + phnum * 56 + 0xFFF) & ~0xFFF
    out += bytes(data_at)
    moved = []  # (old offset, old end, new offset) of each load segment's bytes
    has_pvh = False
    for ph in phdrs:
        p_type, _, off, _, _, filesz, _, _ = ph
        if p_type != PT_LOAD:
            continue
        body = elf[off:off + filesz].rstrip(b"\0")
        new_off = len(out)
        out += body
        out += bytes(-len(out) & 0xFFF)
        moved.append((off, off + filesz, new_off))
        ph[2], ph[5], ph[7] = new_off, len(body), 0x1000
    for ph in phdrs:
        if ph[0] != PT_NOTE:
            continue
        old = ph[2]
        for start, end, new in moved:
            if start <= old and old + ph[5] <= end:
                ph[2] = new + old - start
                break
        else:
            raise SystemExit("vmlinux-pvh: a note segment lies outside the loadable segments")
        notes = elf[old:old + ph[5]]
        at = 0
        while at + 12 <= len(notes):
            namesz, descsz, ntype = struct.unpack_from("<III", notes, at)
            name = notes[at + 12:at + 12 + namesz]
            has_pvh |= name == b"Xen\0" and ntype == PVH_NOTE_TYPE
            at += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    if not has_pvh:
        raise SystemExit("vmlinux-pvh: the kernel has no PVH entry note (CONFIG_PVH is off)")
    header = bytearray(elf[:64])
    struct.pack_into("<Q", header, 32, table_at)    # e_phoff
    struct.pack_into("<Q", header, 40, 0)           # e_shoff: no section headers
    struct.pack_into("<HHH", header, 58, 64, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
    out[:64] = header
    for i, ph in enumerate(phdrs):
        struct.pack_into("<IIQQQQQQ", out, table_at + i * 56, *ph)
    return bytes(out)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.splitlines()[0])
    with open(sys.argv[1], "rb") as f:
        bz = f.read()
    elf = compact(decompress(payload(bz)))
    with open(sys.argv[2], "wb") as f:
        f.write(elf)


if __name__ == "__main__":
    main()
