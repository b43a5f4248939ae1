#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Virtio-net benchmark (`make bench-net`): guest-to-guest frames in both I/O
modes, in one Bochs run of Sidecore (BUILD/linux/bench-net.cfg).

Two identical pairs of Linux guests run at once, each pair on its own switch:
sc-a/sc-b on switch "sc", polled by the I/O sidecore (io = sidecore), tr-a/tr-b
on switch "tr", served the conventional way (io = trap: every notification
exits and the notifying vCPU polls the switch). Each sender's /init runs N
back-to-back pings (ping -A) with 56 and then 1400 data bytes (98- and
1442-byte frames), each between a "net_bench begin size=S" and a "net_bench
size=S pings=N seconds=T" line with 2 s pauses around; the harness reads
`stats` at both lines. It prints side by side, per frame size, for the
window: frames the switch carried (requests and replies), frames per second
of the sender's own (emulated) time, the pair's vCPU exits (all reasons, and
notification exits) and interrupts, each per frame.

Bochs emulates every instruction, so the absolute rates say little about real
hardware; the ratios (exits and interrupts per frame) are what the design
changes. Exit status 0 when both pairs finished the workload."""

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

from machine import Machine, MachineError, build_dir  # noqa: E402
from scenarios import GUEST_LINE_RE, fields, fresh_command, image_for, parse_stats  # noqa: E402

PAIRS = {"sc": ("sc-a", "sc-b"), "tr": ("tr-a", "tr-b")}
SIZES = (56, 1400)


def snapshot(text, pair):
    """The pair's counters from a `stats` text: vCPU exits, notification exits,
    interrupts, and the frames its switch port of the sender took and gave."""
    guests = PAIRS[pair]
    s = {"exits": 0, "notify_exits": 0, "msi": 0, "frames": 0}
    for (g, _), vcpu in parse_stats(GUEST_LINE_RE.sub("", text)).items():
        if g in guests:
            s["exits"] += vcpu.get("exits", 0)
    for line in GUEST_LINE_RE.sub("", text).splitlines():
        f = fields(line)
        if line.startswith("net guest=") and f.get("guest") in guests:
            s["notify_exits"] += f.get("notify_exits", 0)
            s["msi"] += f.get("msi", 0)
        elif line.startswith("netq guest=") and f.get("guest") == guests[1]:
            s["frames"] += f.get("rx_packets", 0) + f.get("tx_packets", 0)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=int, default=3600, help="wall seconds for the run")
    a = ap.parse_args()
    cfg = build_dir() / "linux" / "bench-net.cfg"
    if not cfg.exists():
        raise SystemExit(f"bench-net: {cfg} not found (make linux-guest)")
    pings = int(re.search(r"sidecore\.net_bench=(\d+)", cfg.read_text())[1])
    print(f"bench-net: {pings} back-to-back pings per size ({', '.join(map(str, SIZES))} data "
          f"bytes), pair sc (io = sidecore) and pair tr (io = trap) at once, Sidecore in Bochs "
          f"(6 CPUs)", flush=True)
    before, after, seconds = {}, {}, {}
    m = Machine("bench-net", emulator="bochs", smp=6, memory=768,
                image=image_for("bench-net", cfg), timeout=a.timeout)
    try:
        with m:
            m.expect(r"^sidecore: ready", 600, what="'sidecore: ready'")
            pending = {}
            for p, (_, sender) in PAIRS.items():
                for size in SIZES:
                    pending[f"[{sender}] LINUX-GUEST: net_bench begin size={size}\n"] = \
                        ("begin", p, size)
                    pending[f"[{sender}] LINUX-GUEST: net_bench size={size} "] = ("end", p, size)
            deadline = time.monotonic() + a.timeout
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
                kind, p, size = pending.pop(text)
                line = m.log[i:m.log.find("\n", i)]
                snap = snapshot(fresh_command(m, "stats"), p)
                (before if kind == "begin" else after)[(p, size)] = snap
                if kind == "end":
                    f = fields(line.split("LINUX-GUEST: ", 1)[1])
                    seconds[(p, size)] = float(f["seconds"])
                    if f["pings"] != pings:
                        raise MachineError(f"{p}: the workload fell short: {line.strip()}")
            if pending:
                raise MachineError(f"timed out waiting for {sorted(pending)}")
    except MachineError as e:
        print(f"bench-net: {str(e).splitlines()[0]}\nbench-net: log {m.log_path}", file=sys.stderr)
        return 1

    def d(p, size, k):
        return after[(p, size)][k] - before[(p, size)][k]

    for size in SIZES:
        print(f"\n{size}-byte pings ({size + 42}-byte frames)")
        print(f"{'':40} {'io = sidecore':>14} {'io = trap':>14}")
        rows = [
            ("frames switched (window)", lambda p: d(p, size, "frames"), "{}"),
            ("sender's time (emulated s)", lambda p: seconds[(p, size)], "{:.3f}"),
            ("frames per second (emulated)",
             lambda p: d(p, size, "frames") / seconds[(p, size)], "{:.0f}"),
            ("exits per frame (both guests, all)",
             lambda p: d(p, size, "exits") / d(p, size, "frames"), "{:.2f}"),
            ("notification exits per frame",
             lambda p: d(p, size, "notify_exits") / d(p, size, "frames"), "{:.2f}"),
            ("interrupts per frame", lambda p: d(p, size, "msi") / d(p, size, "frames"), "{:.2f}"),
        ]
        for label, fn, fmt in rows:
            cells = []
            for p in PAIRS:
                try:
                    cells.append(fmt.format(fn(p)))
                except (KeyError, ZeroDivisionError):
                    cells.append("-")
            print(f"{label:40} {cells[0]:>14} {cells[1]:>14}")
    print(f"\nlog: {m.log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
