#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a test disk image for the virtio-blk guests (guest-tests/guests/virtio_blk.c):
an array of little-endian 32-bit words where word n holds TAG << 24 | (n & 0xffffff),
TAG being one ASCII letter. Must agree with guest-tests/lib/disk_pattern.h.

    mkdisk.py OUT SECTORS TAG
"""

import struct
import sys

SECTOR = 512


def image(sectors, tag):
    words = sectors * SECTOR // 4
    base = ord(tag) << 24
    return struct.pack(f"<{words}I", *((base | (n & 0xFFFFFF)) for n in range(words)))


def main(argv):
    if len(argv) != 4 or len(argv[3]) != 1 or not argv[3].isalpha() or not argv[2].isdigit():
        sys.exit("usage: mkdisk.py OUT SECTORS TAG (TAG: one ASCII letter)")
    sectors = int(argv[2])
    if not 1 <= sectors <= (1 << 24) // (SECTOR // 4):
        sys.exit(f"mkdisk.py: {sectors} sectors: must be 1 to {(1 << 24) // (SECTOR // 4)}")
    with open(argv[1], "wb") as f:
        f.write(image(sectors, argv[3]))


if __name__ == "__main__":
    main(sys.argv)
