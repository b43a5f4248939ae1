# SPDX-License-Identifier: MIT
"""Posted interrupts end to end with a bare-metal guest (issue 13): on the project's
Bochs 3.0 with APIC virtualization and an I/O sidecore, the vposted guest
(guests/virtio_blk.c, VBLK_POSTED_PHASES) takes every completion by its interrupt
with its vCPU halted (STI;HLT), while it exits (a CPUID loop) and while it runs
without exits, one request at a time, and checks each one's data. `stats` then
shows where the posted completions found the vCPU: halted (posted_halted: Sidecore
moved them from the descriptor when the vCPU woke), between an exit and the next
entry (posted_reentry), or running (the CPU processed them in the guest: the rest
of msi_posted); and that none cost an IPI fallback (msi_kicked = 0)."""

import re

from scenarios import (assert_guest_passed, disk_stats, fresh_command, guest_lines,
                       guest_test_image, parse_stats, wait_for_all)

GUEST = "disk-posted"
PHASE_RE = re.compile(r"^vposted: (\w+): requests=(\d+) interrupts=(\d+)$")


def test_virtio_posted_halted_reentry_running(machine):
    m = machine(image=guest_test_image("virtio-posted"), emulator="bochs", bochs="own", smp=3,
                memory=512, timeout=300)
    m.expect(rf"^\[{GUEST}\] vposted: running: requests=\d+", timeout=200)
    # `stats` while the guest still cycles (a stopped guest's disk line does
    # not say how it would be interrupted).
    stats = fresh_command(m, "stats")
    wait_for_all(m, [f"sidecore: guest {GUEST} stopped:"], timeout=120)
    log = m.log
    assert_guest_passed(log, GUEST)
    phases = {}
    for line in guest_lines(log, GUEST):
        p = PHASE_RE.match(line)
        if p:
            phases[p[1]] = (int(p[2]), int(p[3]))
    print(f"guest phases (requests, interrupts): {phases}")
    assert set(phases) == {"halted", "exiting", "running"}, phases
    for name, (reqs, irqs) in phases.items():
        assert reqs == irqs > 0, (name, reqs, irqs)

    disks, _, _ = disk_stats(stats)
    d = disks[GUEST]
    assert d["io"] == "sidecore" and d["interrupts"] == "posted", d
    assert d["msi_kicked"] == 0 and d["notify_exits"] == 0, d
    after = fresh_command(m, "stats")
    vcpus = parse_stats(after)
    disks, _, _ = disk_stats(after)
    d = disks[GUEST]
    halted = sum(v.get("posted_halted", 0) for (n, _), v in vcpus.items() if n == GUEST)
    reentry = sum(v.get("posted_reentry", 0) for (n, _), v in vcpus.items() if n == GUEST)
    print(f"{GUEST}: msi_posted={d['msi_posted']} msi_kicked={d['msi_kicked']} "
          f"posted_halted={halted} posted_reentry={reentry}")
    assert d["msi_kicked"] == 0, d
    # Seen on Bochs 3.0 (deterministic, same in 6 runs): of 64 requests per
    # phase, posted_halted=12 (the rest completed before the HLT's exit was
    # handled), posted_reentry=16-21 (17 of 21 came from the CPUID phase alone
    # in a run without the halted phase),
    # msi_posted ~950 at the first `stats`.
    assert halted > 0, (d, halted, reentry)
    assert reentry > 0, (d, halted, reentry)
    assert d["msi_posted"] > halted + reentry, (d, halted, reentry)
