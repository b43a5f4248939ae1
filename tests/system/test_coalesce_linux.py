# SPDX-License-Identifier: MIT
"""Adaptive interrupt coalescing (vIC, issue 16) measured with a stock Linux guest on
Sidecore's null backend (`disk = null:1G:200us`: every request completes 200 us
after the sidecore submitted it), the default thresholds.

One run, two identical guests reading their own null disk at the same time with
tools/linux-guest/qdread (4 KiB O_DIRECT random reads through Linux AIO, a fixed
number in flight): vic-on with interrupt_coalescing = adaptive, vic-off with it
off. Each guest runs a phase with one request in flight, pauses, runs a phase with
32 in flight, pauses and powers off; the test takes `stats` in each pause. Checked,
per phase from the differences between snapshots of the guest's queue line:
  - one request in flight: one interrupt per completion, coalescing on or off;
  - 32 in flight, coalescing on: at most 0.3 interrupts per completion, and the
    guest's requests per second (its own CLOCK_MONOTONIC) at least 0.9 of vic-off's.
Two runs: Bochs (guest-tests/linux/vic-bochs.cfg, the issue's test) and QEMU/SVM
(vic.cfg). The numbers seen are printed (pytest -s) and recorded in
docs/benchmarks.md."""

import os
import re

import pytest

from machine import resolve_bochs
from scenarios import disk_stats, fresh_command, image_for
from test_linux import BOOT_S, SVM, LinuxRun, linux_dir

# Bochs' pace for this test, in emulated instructions per emulated second (Bochs'
# limit is 2^32 - 1). At machine.py's 50M a 4 KiB read costs the Linux guest about
# 370 us of its own time, more than the device's 200 us: the device then holds
# about 0.5 requests (Little's law) and vIC rightly keeps R = 1. What vIC needs is
# a guest fast enough for a mean CIF of 16 (R = 1/4) at 32 in flight, i.e. 80,000
# reads a second or more: at 2G the guests made 63,000/s (CIF about 13, R = 1/2,
# 0.51 interrupts per completion), at 4G 127,000/s (CIF about 25, R = 1/4, 0.279).
# The wall time of the reading phase does not grow with the pace (the instructions
# are the same); only time-bound waits (BIOS, boot, console output, the pauses) do:
# the 4G run took 9.6 min on the loaded 2-core host, the 2G one 5 min.
# SIDECORE_VIC_IPS overrides it (to try another pace).
BOCHS_VIC_IPS = 4_000_000_000

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


def measure(machine, where, scenario, isolate=True):
    """Boots BUILD/linux/SCENARIO.cfg in `where` (Machine options), runs both guests'
    phases and checks the numbers. isolate: vic-off must take at least 0.5 interrupts
    per completion at 32 in flight, so that vic-on's fewer are coalescing's doing and
    not completions batched by a starved emulator."""
    cfg = linux_dir() / f"{scenario}.cfg"
    budget = BOOT_S[2] + 2400
    # The boot CPU, a core per guest and the I/O sidecore.
    m = machine(image=image_for(f"linux-{scenario}", cfg), smp=4, timeout=budget + 60, **where)
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
    if not isolate:
        # Under TCG the depth figures are the host's scheduling (see the caller):
        # printed above, not judged.
        return
    r32_off, _ = per_completion(snaps[1]["vic-off"], snaps[2]["vic-off"])
    assert r32_off >= 0.5, f"vic-off took few interrupts: batched, not coalesced? {report}"
    r32_on, _ = per_completion(snaps[1]["vic-on"], snaps[2]["vic-on"])
    assert r32_on <= 0.3, f"vic-on at 32 in flight: {r32_on:.3f} interrupts per completion\n{report}"
    assert ratio >= 0.9, f"vic-on's requests/s are {ratio:.3f} of vic-off's\n{report}"


@pytest.mark.timeout(BOOT_S[2] + 2400)
def test_coalescing_cuts_interrupts_at_depth_and_keeps_throughput(machine):
    """QEMU/SVM with vic.cfg (null:1G:200us, the defaults), in make test. Under
    TCG on a loaded host the sidecore's thread is descheduled and completions
    arrive in large batches, vic-off included (0.073 interrupts per completion in
    one run, and vic-on's requests/s 0.88 of vic-off's in another with R still
    1), so the depth-32 figures here are the host's scheduling: they are printed,
    and only what holds whatever the host does is asserted: one interrupt per
    completion with one request in flight (coalescing never delays a synchronous
    reader) in both guests, every read done without error. The Bochs run below
    is the one that judges coalescing at depth."""
    measure(machine, SVM, "vic", isolate=False)


@pytest.mark.timeout(BOOT_S[2] + 2400)
def test_coalescing_bochs(machine):
    """Bochs (VT-x) with vic-bochs.cfg: the issue's workload (null:1G:200us, the
    default thresholds but a 10 ms epoch, as vic.cfg) at BOCHS_VIC_IPS, with APIC
    virtualization: completions are posted interrupts (with the software APIC each
    is a kick IPI, at most one per vCPU per 100 us, and that limit, not vIC, set
    both guests' interrupts: 0.157 per completion for vic-off too at 2G). Every
    check, including isolate. The project's Bochs 3.0 only (posted interrupts; 2.7
    hands virtual interrupts to a guest with IF=0, docs/testing.md)."""
    kind, _ = resolve_bochs()
    if kind == "stock":
        pytest.skip("needs the project's Bochs 3.0 (posted interrupts), not Debian's 2.7")
    ips = int(os.environ.get("SIDECORE_VIC_IPS", BOCHS_VIC_IPS))
    measure(machine, dict(emulator="bochs", memory=512, ips=ips), "vic-bochs")
