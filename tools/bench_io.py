#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Virtio-blk I/O benchmark (`make bench-io`): the same workload in both I/O modes,
in one Bochs run of Sidecore (BUILD/linux/bench-io.cfg).

Two identical Linux guests run at once, each with a RAM disk: io-sc is served by
the I/O sidecore (io = sidecore), io-trap the conventional way (io = trap: every
notification exits and the request is handled on the guest's own core). Each
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
DISK_MB = 8


def snapshot(text, guest):
    """Counters of one guest from a `stats` text: exits (all, and exit_REASON per
    reason), notification exits, interrupts and requests."""
    s = {"exits": 0, "notify_exits": 0, "msi": 0, "requests": 0}
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
    s["requests"] = sum(q.get("requests", 0) for (g, _), q in queues.items() if g == guest)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=int, default=3000, help="wall seconds for the run")
    a = ap.parse_args()
    cfg = build_dir() / "linux" / "bench-io.cfg"
    if not cfg.exists():
        raise SystemExit(f"bench-io: {cfg} not found (make linux-guest)")
    reads = int(re.search(r"sidecore\.disk_bench=(\d+)", cfg.read_text())[1])
    for g in GUESTS:
        write_linux_disk(cfg.parent / f"{g}.img", DISK_MB, 1)  # sidecore.disk_pattern_mb=1
    print(f"bench-io: {reads} x 4 KiB O_DIRECT reads per guest, io-sc (io = sidecore) and "
          f"io-trap (io = trap) at once, Sidecore in Bochs (4 CPUs)", flush=True)
    before, after, seconds, done = {}, {}, {}, {}
    m = Machine("bench-io", emulator="bochs", smp=4, memory=512,
                image=image_for("bench-io", cfg), timeout=a.timeout)
    try:
        with m:
            m.expect(r"^sidecore: ready", 300, what="'sidecore: ready'")
            pending = {f"[{g}] LINUX-GUEST: disk_bench begin": ("begin", g) for g in GUESTS}
            pending.update({f"[{g}] LINUX-GUEST: disk_bench reads=": ("end", g) for g in GUESTS})
            deadline = time.monotonic() + a.timeout
            pos = 0
            while pending and time.monotonic() < deadline:
                found = None
                for text in pending:
                    i = m.log.find(text, pos)
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
                pos = 0
            if pending:
                raise MachineError(f"timed out waiting for {sorted(pending)}")
    except MachineError as e:
        print(f"bench-io: {str(e).splitlines()[0]}\nbench-io: log {m.log_path}", file=sys.stderr)
        return 1

    def row(label, fn, fmt):
        cells = []
        for g in GUESTS:
            try:
                cells.append(fmt.format(fn(g)))
            except (KeyError, ZeroDivisionError):
                cells.append("-")
        print(f"{label:44} {cells[0]:>14} {cells[1]:>14}")

    def d(g, k):
        return after[g].get(k, 0) - before[g].get(k, 0)

    print()
    print(f"{'':44} {'io = sidecore':>14} {'io = trap':>14}")
    row("requests completed (workload window)", lambda g: d(g, "requests"), "{}")
    row("guest time for the reads (emulated s)", lambda g: seconds[g], "{:.3f}")
    # The reads dd completed (it said so), over the guest time they took.
    row("requests per second (emulated)", lambda g: done[g] / seconds[g], "{:.0f}")
    row("exits per request (all reasons)", lambda g: d(g, "exits") / d(g, "requests"), "{:.2f}")
    reasons = sorted({k for g in GUESTS for k in after.get(g, {}) if k.startswith("exit_")})
    for reason in reasons:
        if any(g in before and d(g, reason) for g in GUESTS):
            row(f"  {reason[5:]}", lambda g, r=reason: d(g, r) / d(g, "requests"), "{:.2f}")
    row("notification exits per request", lambda g: d(g, "notify_exits") / d(g, "requests"),
        "{:.2f}")
    row("interrupts per request", lambda g: d(g, "msi") / d(g, "requests"), "{:.2f}")
    print(f"\nlog: {m.log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
