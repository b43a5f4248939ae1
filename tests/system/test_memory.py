# SPDX-License-Identifier: MIT
"""Uneven machines: RAM that straddles q35's PCI hole (3.5 GiB: 2 GiB below
4 GiB, the rest above it), and a single CPU."""

from formats import GIB, MIB, parse_cpus, parse_mem, parse_size

FOUR_GIB = 0x100000000


def test_memory_straddles_pci_hole(machine):
    m = machine(media="iso", smp=2, memory=3584)
    ready = m.wait_ready()
    rows, allocator = parse_mem(m.command("mem"))

    usable = [r for r in rows if r["type"] == "usable"]
    above = [r for r in usable if r["start"] >= FOUR_GIB]
    assert above, f"no usable range above 4 GiB (0x100000000) in the memory map: {rows}"
    for r in rows:
        # The printed size must agree with the range (it is rounded for display).
        length = r["end"] - r["start"]
        assert abs(r["size"] - length) <= r["size_step"], \
            f"`{r['line']}`: printed size disagrees with the range's length {length:#x}"
    ordered = sorted(rows, key=lambda r: r["start"])
    for a, b in zip(ordered, ordered[1:]):
        assert a["end"] <= b["start"], f"memory map ranges overlap: {a} {b}"

    # The firmware keeps a little (real-mode area, ACPI tables, its own data).
    usable_bytes = sum(r["end"] - r["start"] for r in usable)
    assert 0.95 * 3584 * MIB <= usable_bytes <= 3584 * MIB, \
        f"usable RAM {usable_bytes / MIB:.0f} MiB, expected a little under 3584 MiB"
    # The allocator manages the usable RAM less the hypervisor, its boot files and
    # the first megabyte; its total is printed rounded.
    total = allocator["total"]
    step = allocator["total_step"]
    assert 0.95 * usable_bytes - step <= total <= usable_bytes + step, \
        f"allocator total {total / GIB:.2f} GiB vs usable RAM {usable_bytes / GIB:.2f} GiB"
    assert 0 < allocator["free"] <= total, allocator
    # The ready line reports the allocator's total in the same format.
    assert ready["mem"] == allocator["total_text"], (ready, allocator)
    assert parse_size(ready["mem"]) == total


def test_single_cpu(machine):
    m = machine(media="iso", smp=1, memory=512)
    ready = m.wait_ready()
    assert ready["cpus"] == 1, f"ready line: {ready}; the machine has 1 CPU"
    assert ready["sockets"] == 1, ready
    rows = parse_cpus(m.command("cpus"))
    assert len(rows) == 1 and rows[0]["index"] == 0 and rows[0]["state"] == "online", rows
