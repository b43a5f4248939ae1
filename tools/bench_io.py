#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Virtio-blk I/O benchmark (`make bench-io`): the same workload in both I/O modes,
and the sidecore's completions both as posted interrupts and by the IPI fallback,
in two Bochs runs of Sidecore on the project's Bochs (`make bochs`).

Run 1 (BUILD/linux/bench-io.cfg, APIC virtualization on): two identical Linux
guests at once, each with a RAM disk: io-sc is served by the I/O sidecore (io =
sidecore; its completions are VT-x posted interrupts), io-trap the conventional
way (io = trap: every notification exits and the request is handled on the
guest's own core). Run 2 (bench-io-ipi.cfg, apic_virtualization = off): io-sc
alone, its completions sent the way a CPU without posted interrupts gets them
(the software APIC: a kick IPI, an exit, an injection). Each
guest's /init does N 4 KiB O_DIRECT reads of its disk (one request in flight)
between a "disk_bench begin" and a "disk_bench reads=N seconds=S" line, pausing
2 s around them; the harness reads `stats` at both lines. The end line carries
the reads dd completed and its exit status; a short or failed run fails the
benchmark. It prints side by side,
for the workload window: requests the device completed, exits of the guest's
vCPUs (all reasons, then per reason), notification exits, interrupts sent to
the guest, each per request, and requests per second of the guest's own
(emulated) time.

Bochs emulates every instruction, so the absolute rates say little about real
hardware; the ratios (exits and interrupts per request) are what the design
changes. Exit status 0 when both guests finished the workload."""

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

from machine import Machine, MachineError, build_dir  # noqa: E402
from scenarios import (GUEST_LINE_RE, disk_stats, fresh_command, image_for,  # noqa: E402
                       parse_stats, write_linux_disk)

GUESTS = {"io-sc": "sidecore", "io-trap": "trap"}
# (config, guests it runs, column per guest): posted interrupts and trap mode in
# one run, the IPI fallback in the second.
RUNS = [("bench-io.cfg", {"io-sc": "sidecore, posted", "io-trap": "io = trap"}),
        ("bench-io-ipi.cfg", {"io-sc": "sidecore, IPI"})]
COLUMNS = ["sidecore, posted", "sidecore, IPI", "io = trap"]
DISK_MB = 8


def snapshot(text, guest):
    """Counters of one guest from a `stats` text: exits (all, and exit_REASON per
    reason), notification exits, interrupts and requests."""
    s = {"exits": 0, "notify_exits": 0, "msi": 0, "requests": 0}  # and kicked, posted
    for (g, _), vcpu in parse_stats(GUEST_LINE_RE.sub("", text)).items():
        if g != guest:
            continue
        for key, value in vcpu.items():
            if (key == "exits" or key.startswith("exit_")) and isinstance(value, int):
                s[key] = s.get(key, 0) + value
    disks, queues, _ = disk_stats(text)
    d = disks.get(guest, {})
    s["notify_exits"] = d.get("notify_exits", 0)
    s["msi"] = d.get("msi", 0)
    s["kicked"] = d.get("msi_kicked", 0)
    s["posted"] = d.get("msi_posted", 0)
    # Every queue of every disk once: (guest, disk, queue) keys (disk 0's queues
    # are also under (guest, queue), which would count them twice).
    s["requests"] = sum(q.get("requests", 0) for key, q in queues.items()
                        if len(key) == 3 and key[0] == guest)
    return s


def workload_windows(m, guests, reads, timeout, snapshot):
    """Follows m's console until every guest in guests has printed its
    "disk_bench begin" and "disk_bench reads=" lines, taking snapshot(stats text,
    guest) at each: (before, after, seconds, done) keyed by guest. Raises
    MachineError when a guest stops, falls short of reads, or timeout passes."""
    before, after, seconds, done = {}, {}, {}, {}
    pending = {f"[{g}] LINUX-GUEST: disk_bench begin": ("begin", g) for g in guests}
    pending.update({f"[{g}] LINUX-GUEST: disk_bench reads=": ("end", g) for g in guests})
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        found = None
        for text in pending:
            i = m.log.find(text)
            if i >= 0 and m.log.find("\n", i) > 0 and (found is None or i < found[0]):
                found = (i, text)
        if not found:
            if re.search(r"^sidecore: guest \S+ stopped: (?!power-off).*$", m.log, re.M):
                raise MachineError("a guest stopped: " + m.log[-2000:])
            time.sleep(0.5)
            continue
        i, text = found
        kind, g = pending.pop(text)
        line = m.log[i:m.log.find("\n", i)]
        snap = snapshot(fresh_command(m, "stats"), g)
        (before if kind == "begin" else after)[g] = snap
        if kind == "end":
            seconds[g] = float(re.search(r"seconds=([0-9.]+)", line)[1])
            done[g] = int(re.search(r"reads=(\d+)", line)[1])
            rc = int(re.search(r"rc=(\d+)", line)[1])
            if rc != 0 or done[g] != reads:
                raise MachineError(f"{g}: the workload fell short: {line.strip()}")
    if pending:
        raise MachineError(f"timed out waiting for {sorted(pending)}")
    return before, after, seconds, done


def run_one(cfg, guests, reads, timeout):
    """Boots cfg in Bochs and snapshots `stats` at each guest's begin and end lines:
    (before, after, seconds, done) keyed by guest, or raises MachineError."""
    m = Machine(f"bench-io-{cfg.stem}", emulator="bochs", smp=4, memory=512,
                image=image_for(cfg.stem, cfg), timeout=timeout, bochs="own")
    try:
        with m:
            m.expect(r"^sidecore: ready", 300, what="'sidecore: ready'")
            windows = workload_windows(m, guests, reads, timeout, snapshot)
    except MachineError as e:
        raise MachineError(f"{str(e).splitlines()[0]}\nbench-io: log {m.log_path}") from None
    print(f"bench-io: {cfg.name} done, log {m.log_path}", flush=True)
    return windows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=int, default=3000, help="wall seconds for each run")
    a = ap.parse_args()
    cfgs = [build_dir() / "linux" / name for name, _ in RUNS]
    for cfg in cfgs:
        if not cfg.exists():
            raise SystemExit(f"bench-io: {cfg} not found (make linux-guest)")
    reads = int(re.search(r"sidecore\.disk_bench=(\d+)", cfgs[0].read_text())[1])
    for g in GUESTS:
        write_linux_disk(cfgs[0].parent / f"{g}.img", DISK_MB, 1)  # sidecore.disk_pattern_mb=1
    print(f"bench-io: {reads} x 4 KiB O_DIRECT reads per guest; run 1: io-sc (io = sidecore, "
          f"posted interrupts) and io-trap (io = trap) at once; run 2: io-sc with "
          f"apic_virtualization = off (IPI fallback); Sidecore in the project's Bochs (4 CPUs)",
          flush=True)
    before, after, seconds, done = {}, {}, {}, {}
    for cfg, (_, columns) in zip(cfgs, RUNS):
        try:
            b, e, s, d = run_one(cfg, columns, reads, a.timeout)
        except MachineError as err:
            print(f"bench-io: {err}", file=sys.stderr)
            return 1
        for g, col in columns.items():
            before[col], after[col], seconds[col], done[col] = b[g], e[g], s[g], d[g]

    def row(label, fn, fmt):
        cells = []
        for col in COLUMNS:
            try:
                cells.append(fmt.format(fn(col)))
            except (KeyError, ZeroDivisionError):
                cells.append("-")
        print(f"{label:44} " + " ".join(f"{c:>17}" for c in cells))

    def d(col, k):
        return after[col].get(k, 0) - before[col].get(k, 0)

    print()
    print(f"{'':44} " + " ".join(f"{c:>17}" for c in COLUMNS))
    row("requests completed (workload window)", lambda c: d(c, "requests"), "{}")
    row("guest time for the reads (emulated s)", lambda c: seconds[c], "{:.3f}")
    # The reads dd completed (it said so), over the guest time they took.
    row("requests per second (emulated)", lambda c: done[c] / seconds[c], "{:.0f}")
    row("exits per request (all reasons)", lambda c: d(c, "exits") / d(c, "requests"), "{:.2f}")
    reasons = sorted({k for c in COLUMNS for k in after.get(c, {}) if k.startswith("exit_")})
    for reason in reasons:
        if any(c in before and d(c, reason) for c in COLUMNS):
            row(f"  {reason[5:]}", lambda c, r=reason: d(c, r) / d(c, "requests"), "{:.2f}")
    row("notification exits per request", lambda c: d(c, "notify_exits") / d(c, "requests"),
        "{:.2f}")
    row("interrupts per request", lambda c: d(c, "msi") / d(c, "requests"), "{:.2f}")
    row("  of them posted (no exit)", lambda c: d(c, "posted") / d(c, "requests"), "{:.2f}")
    row("  of them kicked (an IPI and an exit)", lambda c: d(c, "kicked") / d(c, "requests"),
        "{:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
