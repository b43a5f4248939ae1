# SPDX-License-Identifier: MIT
"""Parsers for what Sidecore prints on its console, so tests compare numbers,
not strings. Each raises AssertionError with the offending text when the
output does not have the documented shape:

  cpus   header `CPU  APIC  SOCKET  CORE  THREAD  STATE`, then one row per CPU:
         index, APIC ID, socket, core, thread, state (online|offline|failed)
  mem    rows `START-END TYPE SIZE` (16 hex digits each; TYPE usable, reserved,
         acpi-reclaim, acpi-nvs or bad), then `allocator: total=SIZE free=SIZE`
  SIZE   a number and a binary unit: 3.4G, 512M, 64K (no unit: bytes)
"""

import re

KIB, MIB, GIB, TIB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
_UNITS = {"": 1, "B": 1, "K": KIB, "M": MIB, "G": GIB, "T": TIB}

CPU_HEADER_RE = re.compile(r"^\s*CPU\s+APIC\s+SOCKET\s+CORE\s+THREAD\s+STATE\s*$")
CPU_ROW_RE = re.compile(r"^\s*(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(online|offline|failed)\s*$")
MEM_ROW_RE = re.compile(
    r"^\s*([0-9a-fA-F]{16})-([0-9a-fA-F]{16})\s+(usable|reserved|acpi-reclaim|acpi-nvs|bad)"
    r"\s+(\S+)\s*$")
ALLOCATOR_RE = re.compile(r"^\s*allocator:\s+total=(\S+)\s+free=(\S+)\s*$")


def parse_size(text):
    """'3.4G' -> bytes (int). Accepts K/M/G/T with an optional 'iB' or 'B'."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", text.strip())
    assert m, f"not a size: {text!r} (expected e.g. 3.4G or 512M)"
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def size_resolution(text):
    """The step of the last printed digit of a size: '3.4G' -> 0.1 GiB, '512M' -> 1 MiB.
    A printed size is within one step of the true value (rounded or truncated)."""
    m = re.fullmatch(r"\d+(?:\.(\d+))?\s*([KMGT]?)(?:i?B)?", text.strip())
    assert m, f"not a size: {text!r} (expected e.g. 3.4G or 512M)"
    return _UNITS[m.group(2)] / 10 ** len(m.group(1) or "")


def parse_cpus(output):
    """`cpus` output -> list of dicts (index, apic, socket, core, thread, state)."""
    lines = [l for l in output.splitlines() if l.strip()]
    header = [i for i, l in enumerate(lines) if CPU_HEADER_RE.match(l)]
    assert header, f"no `CPU  APIC  SOCKET  CORE  THREAD  STATE` header in:\n{output}"
    rows = []
    for l in lines[header[0] + 1:]:
        m = CPU_ROW_RE.match(l)
        assert m, f"`cpus` row {l!r} is not `INDEX APIC SOCKET CORE THREAD STATE` in:\n{output}"
        rows.append({"index": int(m[1]), "apic": m[2], "socket": int(m[3]), "core": int(m[4]),
                     "thread": int(m[5]), "state": m[6]})
    return rows


def parse_mem(output):
    """`mem` output -> (rows, allocator): rows are dicts (start, end, type, size);
    allocator is {'total': bytes, 'free': bytes, 'total_text': str}."""
    rows, allocator = [], None
    for l in output.splitlines():
        m = MEM_ROW_RE.match(l)
        if m:
            start, end = int(m[1], 16), int(m[2], 16)
            assert end > start, f"`mem` range ends before it starts: {l!r}"
            rows.append({"start": start, "end": end, "type": m[3], "size": parse_size(m[4]),
                         "size_step": size_resolution(m[4]), "line": l.strip()})
            continue
        m = ALLOCATOR_RE.match(l)
        if m:
            allocator = {"total": parse_size(m[1]), "free": parse_size(m[2]), "total_text": m[1],
                         "total_step": size_resolution(m[1])}
    assert rows, f"no memory map rows (START-END TYPE SIZE) in `mem` output:\n{output}"
    assert allocator, f"no `allocator: total=SIZE free=SIZE` line in `mem` output:\n{output}"
    return rows, allocator


def parse_uptime(output):
    """`uptime` output -> seconds (float). Understands [Nd] HH:MM:SS[.frac] and a plain
    number of seconds (the first number in the output)."""
    m = re.search(r"(?:(\d+)\s*d(?:ays?)?[\s,]+)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", output)
    if m:
        return (int(m[1] or 0) * 86400 + int(m[2]) * 3600 + int(m[3]) * 60 + float(m[4]))
    m = re.search(r"\d+(?:\.\d+)?", output)
    assert m, f"no time in `uptime` output: {output!r}"
    return float(m[0])
