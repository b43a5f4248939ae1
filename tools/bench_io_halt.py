#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Exits per request with HLT intercepted and not (`make bench-io-halt`): the
bench-io workload (tools/bench_io.py: 4 KiB O_DIRECT reads of a virtio-blk RAM
disk, one request in flight, io = sidecore and io = trap side by side) run once
per `halt` setting in one invocation, one Bochs run each: halt = hypervisor (HLT
exits, the vCPU waits on the host; the default) and halt = guest (HLT not
intercepted: the core halts in guest mode and a completion wakes it without an
exit).

The configuration is BUILD/linux/bench-io.cfg with `halt = ...` added to each
guest (written as bench-io-halt-SETTING.cfg beside it); `--bochs own` runs the
project's Bochs 3.0, where the sidecore's completions are posted interrupts.
Printed per column, for the workload window (stats read at the guest's
"disk_bench begin" and "disk_bench reads=" lines): requests, guest time, exits per
request (all, I/O-caused as `stats` classifies them, then per reason) and
interrupts per request. Exit status 0 when every guest finished the workload."""

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))
sys.path.insert(0, str(REPO / "tools"))

from machine import Machine, MachineError, build_dir  # noqa: E402
from scenarios import GUEST_LINE_RE, disk_stats, image_for, parse_stats  # noqa: E402
from scenarios import write_linux_disk  # noqa: E402
from bench_io import workload_windows  # noqa: E402

# Column name: (the guests' `halt =`, what is added to their kernel command line).
# haltpoll: Linux's cpuidle-haltpoll driver (kvm_para_available() holds: Sidecore
# offers KVM's signature at 0x40000100); idlepoll: the guest never halts.
SETTINGS = {"hypervisor": ("hypervisor", ""), "guest": ("guest", ""),
            "haltpoll": ("hypervisor", "cpuidle_haltpoll.force=1"),
            "idlepoll": ("hypervisor", "idle=poll")}
# The guests of bench-io.cfg this table reads, and their disks' size (as bench_io.py).
GUESTS = {"io-sc": "sidecore", "io-trap": "trap"}
DISK_MB = 8


def snapshot(text, guest):
    """Counters of one guest from a `stats` text: exits (all, exits_io, and
    exit_REASON per reason) summed over its vCPUs, its first disk's notification
    exits and interrupts, and the requests of that disk's queues."""
    s = {"exits": 0, "exits_io": 0}
    for (g, _), vcpu in parse_stats(GUEST_LINE_RE.sub("", text)).items():
        if g != guest:
            continue
        for key, value in vcpu.items():
            if (key in s or key.startswith("exit_")) and isinstance(value, int):
                s[key] = s.get(key, 0) + value
    disks, queues, _ = disk_stats(text)
    d = disks.get(guest, {})
    s["notify_exits"] = d.get("notify_exits", 0)
    s["msi"] = d.get("msi", 0)
    # (guest, queue) keys are disk 0's queues; (guest, disk, queue) every disk's.
    s["requests"] = sum(q.get("requests", 0) for k, q in queues.items()
                        if len(k) == 2 and k[0] == guest)
    return s


def config_for(base, setting):
    """bench-io.cfg with the setting's `halt =` and command line in every [guest] section."""
    halt, extra = SETTINGS[setting]
    text = re.sub(r"^(\[guest [^\]]+\]\n)", rf"\1halt = {halt}\n", base.read_text(), flags=re.M)
    if extra:
        text = re.sub(r"^(cmdline = .*)$", rf"\1 {extra}", text, flags=re.M)
    cfg = base.parent / f"bench-io-halt-{setting}.cfg"
    cfg.write_text(text)
    return cfg


def run_once(cfg, setting, reads, timeout, bochs):
    """One Bochs run of cfg; {guest: (before, after, seconds, done)}."""
    for g in GUESTS:
        write_linux_disk(cfg.parent / f"{g}.img", DISK_MB, 1)  # sidecore.disk_pattern_mb=1
    m = Machine(f"bench-io-halt-{setting}", emulator="bochs", smp=4, memory=512,
                image=image_for(f"bench-io-halt-{setting}", cfg), timeout=timeout, bochs=bochs)
    with m:
        m.expect(r"^sidecore: ready", 300, what="'sidecore: ready'")
        before, after, seconds, done = workload_windows(m, GUESTS, reads, timeout, snapshot)
        forced = "forces HLT exiting" in m.log
    print(f"bench-io-halt: {setting} done (log {m.log_path})", flush=True)
    return {g: (before[g], after[g], seconds[g], done[g]) for g in GUESTS}, forced


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=int, default=3000, help="wall seconds per run")
    ap.add_argument("--bochs", default=None, help="stock (Bochs 2.7), own (make bochs) or a path")
    ap.add_argument("--settings", default="hypervisor,guest",
                    help="columns, in order, from: " + ", ".join(SETTINGS))
    a = ap.parse_args()
    base = build_dir() / "linux" / "bench-io.cfg"
    if not base.exists():
        raise SystemExit(f"bench-io-halt: {base} not found (make linux-guest)")
    reads = int(re.search(r"sidecore\.disk_bench=(\d+)", base.read_text())[1])
    settings = a.settings.split(",")
    if any(s not in SETTINGS for s in settings):
        raise SystemExit(f"bench-io-halt: --settings takes {', '.join(SETTINGS)}")
    print(f"bench-io-halt: {reads} x 4 KiB O_DIRECT reads per guest, io = sidecore and "
          f"io = trap at once, one Bochs run (4 CPUs) per halt setting: "
          f"{', '.join(settings)}", flush=True)
    results = {}
    for setting in settings:
        try:
            results[setting], forced = run_once(config_for(base, setting), setting, reads,
                                                a.timeout, a.bochs)
        except MachineError as e:
            print(f"bench-io-halt: {setting}: {str(e).splitlines()[0]}", file=sys.stderr)
            return 1
        # Every run's raw counters, kept as they come (a later run may fail).
        tag = re.sub(r"\W", "_", a.bochs or "default")
        out = build_dir() / "test-logs" / f"bench-io-halt-{tag}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({s: {g: dict(zip(("before", "after", "seconds", "reads"), r))
                                       for g, r in res.items()} for s, res in results.items()},
                                  indent=1))
        if forced:
            print(f"bench-io-halt: {setting}: the CPU forces HLT exiting", file=sys.stderr)

    cols = [(s, g) for s in settings for g in GUESTS]

    def d(col, k):
        before, after, _, _ = results[col[0]][col[1]]
        return after.get(k, 0) - before.get(k, 0)

    def row(label, fn, fmt):
        cells = []
        for col in cols:
            try:
                cells.append(fmt.format(fn(col)))
            except (KeyError, ZeroDivisionError):
                cells.append("-")
        print(f"{label:40}" + "".join(f"{c:>13}" for c in cells))

    print()
    print(f"{'setting':40}" + "".join(f"{s:>13}" for s, _ in cols))
    print(f"{'io =':40}" + "".join(f"{GUESTS[g]:>13}" for _, g in cols))
    row("requests completed (workload window)", lambda c: d(c, "requests"), "{}")
    row("guest time for the reads (emulated s)", lambda c: results[c[0]][c[1]][2], "{:.3f}")
    row("requests per second (emulated)",
        lambda c: results[c[0]][c[1]][3] / results[c[0]][c[1]][2], "{:.0f}")
    row("exits per request (all reasons)", lambda c: d(c, "exits") / d(c, "requests"), "{:.2f}")
    row("  caused by I/O (exits_io)", lambda c: d(c, "exits_io") / d(c, "requests"), "{:.2f}")
    row("  other", lambda c: (d(c, "exits") - d(c, "exits_io")) / d(c, "requests"), "{:.2f}")
    reasons = sorted({k for s in results for g in GUESTS for k in results[s][g][1]
                      if k.startswith("exit_")})
    for reason in reasons:
        if any(d(c, reason) for c in cols):
            row(f"  {reason[5:]}", lambda c, r=reason: d(c, r) / d(c, "requests"), "{:.2f}")
    row("notification exits per request", lambda c: d(c, "notify_exits") / d(c, "requests"),
        "{:.2f}")
    row("interrupts per request", lambda c: d(c, "msi") / d(c, "requests"), "{:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
