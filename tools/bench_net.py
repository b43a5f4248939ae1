#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Virtio-net benchmark (`make bench-net`): guest-to-guest frames in both I/O
modes, taking turns over several rounds in one run of Sidecore
(BUILD/linux/bench-net.cfg), in Bochs (default) or QEMU/SVM.

Two identical pairs of Linux guests, each pair on its own switch: sc-a/sc-b on
switch "sc", polled by the I/O sidecore (io = sidecore), tr-a/tr-b on switch
"tr", served the conventional way (io = trap: every notification exits and
the notifying vCPU polls the switch). Each sender's /init (sidecore.net_bench=
console) waits for commands on its console; the harness types them with
`console NAME send bench SIZE COUNT`, so only one pair is busy at a time: in
each round every side runs one burst of COUNT back-to-back pings (ping -A) per
frame size, the sides' order alternating from round to round. A burst lies
between a "net_bench begin size=S" and a "net_bench size=S pings=N seconds=T"
line: the harness reads `stats` at the first, types `go` (the pings start),
and reads `stats` again at the second while the sender pauses 2 s.

Per frame size it prints, side by side, the median over the rounds and its
spread [lowest-highest]: frames the switch carried (requests and replies) per
second of the sender's own (emulated) time, the pair's vCPU exits (all
reasons, and notification exits) and interrupts, each per frame; the last
column says "no clear difference" where the two spreads overlap. Every round's
numbers go to a JSON file beside the log (BUILD/bench-net/), named at the end;
a run cut short (time-out, a guest stopping) still prints and writes the
rounds it completed, and exits 1.

Bochs emulates every instruction, so the absolute rates say little about real
hardware; the ratios (exits and interrupts per frame) are what the design
changes. Under QEMU/SVM (TCG) the guests' TSC follows the host's clock, so
its rates are wall-clock rates on a shared machine. Exit status 0 when every
burst completed."""

import argparse
import datetime
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))
sys.path.insert(0, str(REPO / "tools"))

from bench_rounds import cell, summary, turn_order, verdict  # noqa: E402
from machine import Machine, MachineError, build_dir  # noqa: E402
from scenarios import GUEST_LINE_RE, fields, fresh_command, image_for, parse_stats  # noqa: E402

PAIRS = {"sc": ("sc-a", "sc-b"), "tr": ("tr-a", "tr-b")}
MODE = {"sc": "io = sidecore", "tr": "io = trap"}
LINE = "LINUX-GUEST: "
SVM_CPU = ["-cpu", "EPYC,+svm,+npt"]

# (key, label, format) of the table's rows; every value is per round.
ROWS = (
    ("frames", "frames switched (window)", "{:.0f}"),
    ("seconds", "sender's time (emulated s)", "{:.3f}"),
    ("fps", "frames per second (emulated)", "{:.0f}"),
    ("exits_per_frame", "exits per frame (both guests, all)", "{:.2f}"),
    ("notify_exits_per_frame", "notification exits per frame", "{:.2f}"),
    ("interrupts_per_frame", "interrupts per frame", "{:.2f}"),
)


def snapshot(text, pair):
    """The pair's counters from a `stats` text: vCPU exits, notification exits,
    interrupts, and the frames the sender's device took and gave."""
    guests = PAIRS[pair]
    s = {"exits": 0, "notify_exits": 0, "msi": 0, "frames": 0}
    clean = GUEST_LINE_RE.sub("", text)
    for (g, _), vcpu in parse_stats(clean).items():
        if g in guests:
            s["exits"] += vcpu.get("exits", 0)
            for k, v in vcpu.items():
                if k.startswith("exit_") and isinstance(v, int):
                    s[k] = s.get(k, 0) + v
    for line in clean.splitlines():
        f = fields(line)
        if line.startswith("net guest=") and f.get("guest") in guests:
            s["notify_exits"] += f.get("notify_exits", 0)
            s["msi"] += f.get("msi", 0)
        elif line.startswith("netq guest=") and f.get("guest") == guests[1]:
            s["frames"] += f.get("rx_packets", 0) + f.get("tx_packets", 0)
    return s


def window_metrics(before, after, seconds):
    """One burst's numbers from the snapshots at its two lines and the sender's
    own time for it; a ratio whose divisor is 0 is None."""
    d = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    frames = d["frames"]

    def per(x, y):
        return x / y if y else None

    out = {"frames": frames, "seconds": seconds, "fps": per(frames, seconds),
           "exits": d["exits"], "notify_exits": d["notify_exits"], "interrupts": d["msi"],
           "exits_per_frame": per(d["exits"], frames),
           "notify_exits_per_frame": per(d["notify_exits"], frames),
           "interrupts_per_frame": per(d["msi"], frames)}
    for k in sorted(d):
        if k.startswith("exit_") and d[k]:
            out[k + "_per_frame"] = per(d[k], frames)
    return out


def reason_rows(rounds, sizes):
    """(key, label, format) of a row per exit reason seen in any burst."""
    keys = sorted({k for r in rounds for p in r for size in sizes if size in r[p]
                   for k in r[p][size] if k.startswith("exit_") and k.endswith("_per_frame")})
    return tuple((k, f"  {k[len('exit_'):-len('_per_frame')]}", "{:.2f}") for k in keys)


def summarize(rounds, sizes):
    """{size: {pair: {key: summary}}} over the rounds' metrics (a reason a
    burst did not exit for counts 0 there)."""
    out = {}
    rows = ROWS + reason_rows(rounds, sizes)
    for size in sizes:
        out[size] = {}
        for p in PAIRS:
            per_round = [r[p][size] for r in rounds if p in r and size in r[p]]
            out[size][p] = {k: summary([m.get(k, 0 if k.startswith("exit_") else None)
                                        for m in per_round]) for k, _, _ in rows}
    return out


def table(summ, sizes):
    """The printed table: per frame size, a row per metric, both sides and a verdict."""
    lines = []
    for size in sizes:
        lines.append(f"\n{size}-byte pings ({size + 42}-byte frames): median [spread] over rounds")
        lines.append(f"{'':36} {MODE['sc']:>22} {MODE['tr']:>22}   verdict")
        reasons = sorted(k for k in summ[size]["sc"] if k.startswith("exit_"))
        rows = list(ROWS)
        at = [k for k, _, _ in rows].index("exits_per_frame") + 1
        rows[at:at] = [(k, f"  {k[len('exit_'):-len('_per_frame')]}", "{:.2f}") for k in reasons]
        for key, label, fmt in rows:
            a, b = summ[size]["sc"][key], summ[size]["tr"][key]
            v = "" if key in ("frames", "seconds") else verdict(a, b, ("sidecore", "trap"))
            lines.append(f"{label:36} {cell(a, fmt):>22} {cell(b, fmt):>22}   {v}")
    return "\n".join(lines)


def wait_line(m, regex, after, timeout, what):
    """The first match of regex (multiline) in the log after offset after."""
    pattern = re.compile(regex, re.M)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.search(m.log, after)
        if found:
            return found
        if re.search(r"^sidecore: guest \S+ stopped: .*$", m.log[after:], re.M):
            raise MachineError("a guest stopped: " + m.log[-2000:])
        time.sleep(0.5)
    raise MachineError(f"timed out after {timeout} s waiting for {what}")


def burst(m, pair, size, count, timeout):
    """One burst of the pair's sender, driven through its console; its metrics."""
    sender = PAIRS[pair][1]
    start = len(m.log)
    fresh_command(m, f"console {sender} send bench {size} {count}", timeout=60)
    g = re.escape(sender)
    wait_line(m, rf"^\[{g}\] {LINE}net_bench begin size={size}\n", start, timeout,
              f"{sender}'s begin line")
    before = snapshot(fresh_command(m, "stats"), pair)
    fresh_command(m, f"console {sender} send go", timeout=60)
    end = wait_line(m, rf"^\[{g}\] {LINE}(net_bench size={size} [^\n]*)\n", start, timeout,
                    f"{sender}'s end line")
    after = snapshot(fresh_command(m, "stats"), pair)
    f = fields(end[1])
    if f["pings"] != count:
        raise MachineError(f"{pair}: the burst fell short: {end[1]}")
    return window_metrics(before, after, float(f["seconds"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds (each side once per size)")
    ap.add_argument("--pings", type=int, default=300, help="back-to-back pings per burst")
    ap.add_argument("--sizes", default="56,1400", help="ping data bytes, comma-separated")
    ap.add_argument("--emulator", choices=("bochs", "svm"), default="bochs",
                    help="bochs (VT-x, the default) or svm (QEMU TCG with AMD-V)")
    ap.add_argument("--timeout", type=int, default=7200, help="wall seconds for the run")
    ap.add_argument("--json", type=Path, help="where to write the numbers "
                    "(default BUILD/bench-net/bench-net-TIME.json)")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    cfg = build_dir() / "linux" / "bench-net.cfg"
    if not cfg.exists():
        raise SystemExit(f"bench-net: {cfg} not found (make linux-guest)")
    emu = "Bochs (VT-x)" if a.emulator == "bochs" else "QEMU/TCG with AMD-V"
    print(f"bench-net: {a.rounds} rounds of {a.pings} back-to-back pings per size "
          f"({', '.join(map(str, sizes))} data bytes), pair sc ({MODE['sc']}) and pair tr "
          f"({MODE['tr']}) taking turns, Sidecore in {emu} (6 CPUs)", flush=True)
    if a.emulator == "bochs":
        m = Machine("bench-net", emulator="bochs", smp=6, memory=768,
                    image=image_for("bench-net", cfg), timeout=a.timeout)
    else:
        m = Machine("bench-net", emulator="qemu", accel="tcg", smp=6, memory=1024,
                    image=image_for("bench-net", cfg), timeout=a.timeout, extra_args=SVM_CPU)
    rounds = []
    t0 = time.monotonic()
    try:
        with m:
            m.expect(r"^sidecore: ready", 600, what="'sidecore: ready'")
            for p, (_, sender) in PAIRS.items():
                wait_line(m, rf"^\[{re.escape(sender)}\] {LINE}net_bench ready\n", 0,
                          a.timeout, f"{sender} ready")
            print(f"bench-net: both senders ready after {time.monotonic() - t0:.0f} s",
                  flush=True)
            for r in range(a.rounds):
                result = {}
                for p in turn_order(PAIRS, r):
                    result[p] = {}
                    for size in sizes:
                        result[p][size] = burst(m, p, size, a.pings, 1800)
                rounds.append(result)
                cells = " ".join(f"{p}/{s}={result[p][s]['fps']:.0f}fps" for p in PAIRS
                                 for s in sizes if result[p][s]["fps"] is not None)
                print(f"bench-net: round {r + 1}/{a.rounds} ({'+'.join(turn_order(PAIRS, r))})"
                      f": {cells}", flush=True)
            for _, sender in PAIRS.values():
                fresh_command(m, f"console {sender} send end", timeout=60)
    except MachineError as e:
        print(f"bench-net: {str(e).splitlines()[0]}\nbench-net: log {m.log_path}", file=sys.stderr)
        if not rounds:
            return 1
        failed = True  # the rounds that completed are still worth their table
        print(f"bench-net: only {len(rounds)} of {a.rounds} rounds completed", flush=True)
    else:
        failed = False

    summ = summarize(rounds, sizes)
    print(table(summ, sizes))
    out = a.json or (build_dir() / "bench-net" /
                     f"bench-net-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"benchmark": "bench-net", "emulator": a.emulator, "rounds": a.rounds,
           "rounds_completed": len(rounds), "complete": not failed,
           "pings": a.pings, "sizes": sizes, "modes": MODE,
           "wall_seconds": round(time.monotonic() - t0, 1),
           "per_round": [{p: {str(s): v for s, v in r[p].items()} for p in r} for r in rounds],
           "summary": {str(s): summ[s] for s in sizes}}
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"\nnumbers: {out}\nlog: {m.log_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
