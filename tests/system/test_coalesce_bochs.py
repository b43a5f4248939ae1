# SPDX-License-Identifier: MIT
"""Adaptive interrupt coalescing (vIC, issue 16) measured with a stock Linux guest in
Bochs, on Sidecore's null backend (`disk = null:1G:200us`: every request completes
200 us after the sidecore submitted it).

One Bochs run, two identical guests (guest-tests/linux/vic.cfg) reading their own
null disk at the same time with tools/linux-guest/qdread (4 KiB O_DIRECT random
reads through Linux AIO, a fixed number in flight): vic-on with
interrupt_coalescing = adaptive, vic-off with it off. Each guest runs a phase with
one request in flight, pauses, runs a phase with 32 in flight, pauses and powers
off; the test takes `stats` in each pause. Checked, per phase from the differences
between snapshots of the guest's queue line:
  - one request in flight: one interrupt per completion, coalescing on or off;
  - 32 in flight, coalescing on: at most 0.3 interrupts per completion, and the
    guest's requests per second (its own clock) at least 0.9 of vic-off's.
The numbers seen are printed (pytest -s) and recorded in docs/benchmarks.md."""

import re

import pytest

from scenarios import disk_stats, fresh_command, image_for
from test_linux import BOOT_S, LinuxRun, linux_dir

# Emulated instructions per emulated second. At machine.py's 50M a guest spends
# about 370 us of its own time per 4 KiB read (measured: 2,682 reads/s at 32 in
# flight, CPU-bound), longer than the device's 200 us, so the device never had more
# than about one request in flight (Little's law: 2,682/s x 200 us = 0.5) and R
# rightly stayed 1. 2G (the most a signed 32-bit field holds; Bochs 2.7 printed
# 3G as negative) is nearer a real core: the guest then keeps the device
# busy the way it would on hardware.
IPS = 2_000_000_000

GUESTS = ("vic-on", "vic-off")
VIC_LINE = re.compile(r"^\[(?P<g>vic-o(?:n|ff))\] VIC: phase=(?P<k>\d+) (?P<rest>.*)\n", re.M)


def phase_lines(run, k, timeout):
    """Waits for both guests' phase-k lines; returns {guest: fields}."""
    out = {}
    for g in GUESTS:
        m = run.wait(rf"^\[{g}\] VIC: phase={k} .*rc=\d+\n", timeout, f"[{g}] VIC: phase={k}")
        f = dict(w.split("=", 1) for w in m[0].split("VIC: ", 1)[1].split() if "=" in w)
        assert f["rc"] == "0" and f["errors"] == "0", f"{g}: phase {k}: {m[0].strip()}"
        out[g] = {k2: int(v) for k2, v in f.items()}
    return out


def queue_snapshot(m):
    _, queues, cores = disk_stats(fresh_command(m, "stats", timeout=300))
    return {g: queues[(g, 0)] for g in GUESTS}, cores


def per_completion(a, b):
    """Interrupts per completion between two snapshots of one queue."""
    reqs = b["requests"] - a["requests"]
    assert reqs > 0, (a, b)
    return (b["interrupts"] - a["interrupts"]) / reqs, reqs


@pytest.mark.timeout(BOOT_S[2] + 2400)
def test_coalescing_cuts_interrupts_at_depth_and_keeps_throughput(machine):
    cfg = linux_dir() / "vic.cfg"
    budget = BOOT_S[2] + 2400
    # The boot CPU, a core per guest and the I/O sidecore.
    m = machine(image=image_for("linux-vic", cfg), emulator="bochs", smp=4, memory=512,
                timeout=budget + 60, extra_args=[f"cpu: ips={IPS}"])
    run = LinuxRun(m, cfg, {g: r"power-off" for g in GUESTS})
    zero = {g: {"requests": 0, "interrupts": 0} for g in GUESTS}
    # Each guest pauses after a phase; a snapshot is taken as soon as a guest's
    # line is out, so it belongs to that guest's pause (the other guest's line in
    # it is not used).
    snaps = [zero]
    phases = []
    for k in (1, 2):
        lines = phase_lines(run, k, budget)
        snap, cores = queue_snapshot(m)
        phases.append(lines)
        snaps.append(snap)
    for g in GUESTS:
        run.wait(rf"^sidecore: guest {g} stopped: power-off.*$", 600, f"{g} power-off")
    report = []
    for g in GUESTS:
        r1, n1 = per_completion(snaps[0][g], snaps[1][g])
        r32, n32 = per_completion(snaps[1][g], snaps[2][g])
        q = snaps[2][g]
        report.append(f"{g}: qd1 {phases[0][g]['iops']}/s {r1:.3f} irq/completion ({n1} reqs); "
                      f"qd32 {phases[1][g]['iops']}/s {r32:.3f} irq/completion ({n32} reqs); "
                      f"R={q['coalesce_r']} held={q['coalesce_held']} "
                      f"released_cif={q['coalesce_released_cif']} "
                      f"released_cap={q['coalesce_released_cap']}")
    print("\n" + "\n".join(report))
    ratio = phases[1]["vic-on"]["iops"] / phases[1]["vic-off"]["iops"]
    print(f"qd32 requests/s vic-on / vic-off = {ratio:.3f}")
    for g in GUESTS:
        r1, _ = per_completion(snaps[0][g], snaps[1][g])
        assert r1 >= 0.97, f"{g}: one request in flight, {r1:.3f} interrupts per completion\n{report}"
    r32_off, _ = per_completion(snaps[1]["vic-off"], snaps[2]["vic-off"])
    assert r32_off >= 0.5, f"vic-off coalesced? {report}"
    r32_on, _ = per_completion(snaps[1]["vic-on"], snaps[2]["vic-on"])
    assert r32_on <= 0.3, f"vic-on at 32 in flight: {r32_on:.3f} interrupts per completion\n{report}"
    assert ratio >= 0.9, f"vic-on's requests/s are {ratio:.3f} of vic-off's\n{report}"
