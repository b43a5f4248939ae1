#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The ELVIS scaling benchmark (`make bench-elvis`, also run by `make bench-io`).

1, 2, 4 and up to --max guests share ONE I/O sidecore; each guest is the bare-metal
test guest vbench-qdN (guest-tests/guests/virtio_blk.c, VBLK_MODE_BENCH): after its
set-up it prints "vbench: ready", waits 3 s, then keeps N 4 KiB reads in flight for
2 s of its own TSC time on a null disk (`disk = null:1G`, drivers/block/nullblk.c)
and prints "vbench: done requests=... us=...". The harness reads `stats` once every
guest is ready (before any request) and once every guest has stopped, and takes the
difference. Each configuration (guests x queue depth) runs in sidecore mode (io =
sidecore, `sidecores = 1`) and in trap mode (io = trap, `sidecores = 0`, every
notification exits and is served on the guest's own core), one emulator boot each,
on a machine of the same size (guests + 2 CPUs). The sides alternate over --rounds
rounds in one invocation; the table prints the median and the spread (min..max) and
says "no clear difference" where the two sides' spreads overlap
(tools/bench_rounds.py).

Per configuration: aggregate requests per second (sum over the guests of requests
over the guest's own TSC time), exits per request (I/O-caused, `exits_io`, and
total without the console's port I/O exits, which the guests' own printing costs),
interrupts per request (MSIs the disk sent), the sidecore's busy share (busy_us over
busy_us + idle_us) and, per mode and queue depth, how many guests one sidecore
serves before the aggregate falls below 0.95 of linear (n times the 1-guest
median), among the guest counts measured (ELVIS reports 7).

Every run's numbers go to a JSON file (--json, default BUILD/bench-elvis.json),
the table also to the same name with .txt. Emulator: QEMU TCG with AMD-V (default,
--emulator svm) or Bochs with VT-x (--emulator bochs, the product's main path; much
slower). Guest time under TCG follows the host's clock, and the host's cores are
shared: the absolute rates are the emulator's, the ratios are what the design
changes."""

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))
sys.path.insert(0, str(REPO / "tools"))

from machine import BOCHS_CPU_MODEL, Machine, MachineError, build_dir  # noqa: E402
import bench_rounds as rounds  # noqa: E402  (tools/, beside this file)
from scenarios import disk_stats, guest_tests_dir, image_for, parse_stats  # noqa: E402

MODES = ("sidecore", "trap")
SVM_CPU = ["-cpu", "EPYC,+svm,+npt"]
DONE_RE = re.compile(r"^\[(\S+)\] vbench: done (.*)$", re.M)
LINEAR = 0.95
METRICS = ("rps", "exits_io_per_req", "exits_per_req", "irqs_per_req", "msi_per_req",
           "sidecore_busy")


def guest_name(i):
    return f"b{i}"


def write_config(mode, nguests, qd, latency):
    """The scenario's config, beside the guest images (relative kernel paths)."""
    gt = guest_tests_dir()
    disk = "null:1G" + (f":{latency}" if latency else "")
    lines = ["# Written by tools/bench_elvis.py: the ELVIS scaling benchmark.",
             "[hypervisor]", "console = com1,115200",
             f"sidecores = {1 if mode == 'sidecore' else 0}", ""]
    for i in range(nguests):
        lines += [f"[guest {guest_name(i)}]", "cpus = 1", "memory = 16M",
                  f"kernel = vbench-qd{qd}.elf", f"disk = {disk}", f"io = {mode}", ""]
    path = gt / f"bench-elvis-{mode}-{nguests}-qd{qd}.cfg"
    path.write_text("\n".join(lines))
    return path


def snapshot(text, nguests):
    """Counters from one `stats` text: per guest (exits, exits_io, console port
    I/O exits, MSIs, requests) and the sidecores' busy/idle microseconds."""
    vcpus = parse_stats(text)
    disks, queues, cores = disk_stats(text)
    out = {"guests": {}, "busy_us": sum(c.get("busy_us", 0) for c in cores),
           "idle_us": sum(c.get("idle_us", 0) for c in cores)}
    for i in range(nguests):
        g = guest_name(i)
        v = [f for (name, _), f in vcpus.items() if name == g]
        out["guests"][g] = {
            "exits": sum(f.get("exits", 0) for f in v),
            "exits_io": sum(f.get("exits_io", 0) for f in v),
            "exit_portio": sum(f.get("exit_io", 0) for f in v),
            "msi": disks.get(g, {}).get("msi", 0),
            "requests": sum(q.get("requests", 0) for (name, *_), q in queues.items()
                            if name == g and len(_) == 1),
        }
    return out


def stats_now(m, tries=3):
    """`stats` after a fresh prompt (the last one scrolled away under guest
    output); Enter is typed again if a loaded host swallowed the first."""
    for i in range(tries):
        m.skip_output()
        m.send_line("")
        try:
            m.wait_prompt(20)
            break
        except MachineError:
            if i == tries - 1:
                raise
    return m.command("stats", timeout=60)


def wait_lines(m, regexes, timeout, what):
    """Waits until every regex has matched somewhere in the output, in any
    order (the guests print concurrently)."""
    deadline = time.monotonic() + timeout
    while True:
        missing = [r for r in regexes if not re.search(r, m.log, re.M)]
        if not missing:
            return
        if not m.running() or time.monotonic() > deadline:
            raise MachineError(f"{m.name}: no {what} ({missing}) within {timeout} s; "
                               f"log {m.log_path}")
        time.sleep(0.2)


def run_one(mode, nguests, qd, emulator, latency, timeout, log=print):
    """Boots one configuration and returns its measurements (a dict)."""
    cfg = write_config(mode, nguests, qd, latency)
    image = image_for(f"bench-elvis-{mode}-{nguests}-qd{qd}", cfg)
    smp = nguests + 2
    if emulator == "svm":
        m = Machine(f"bench-elvis-{mode}-{nguests}-qd{qd}", emulator="qemu", accel="tcg",
                    smp=smp, memory=512, extra_args=SVM_CPU, image=image, timeout=timeout)
    else:
        m = Machine(f"bench-elvis-{mode}-{nguests}-qd{qd}", emulator="bochs", smp=smp,
                    memory=512, image=image, timeout=timeout)
    guests = [guest_name(i) for i in range(nguests)]
    t0 = time.monotonic()
    with m:
        m.expect(r"^sidecore: ready", timeout, what="'sidecore: ready'")
        wait_lines(m, [rf"^\[{g}\] vbench: ready" for g in guests], timeout, "ready lines")
        before = snapshot(stats_now(m), nguests)
        wait_lines(m, [rf"sidecore: guest {g} stopped: [^\n]*\n" for g in guests], timeout,
                   "stop lines")
        after = snapshot(stats_now(m), nguests)
        done = {d[1]: dict(w.split("=", 1) for w in d[2].split()) for d in DONE_RE.finditer(m.log)}
        fails = [l for l in m.log.splitlines() if re.match(r"^\[b\d+\] FAIL", l)]
    if fails or set(done) != set(guests):
        raise MachineError(f"bench-elvis: guests failed or did not finish: {fails or done}; "
                           f"log {m.log_path}")
    per = {}
    for g in guests:
        b, a = before["guests"][g], after["guests"][g]
        d = {k: a[k] - b[k] for k in a}
        per[g] = {"requests_guest": int(done[g]["requests"]), "us": int(done[g]["us"]),
                  "irqs_guest": int(done[g]["irqs"]), "notifies": int(done[g]["notifies"]),
                  "notifies_skipped": int(done[g]["skipped"]),
                  "clean_start": b["requests"] == 0, **d}
    r = {"mode": mode, "guests": nguests, "qd": qd, "emulator": emulator,
         "latency": latency or "0", "log": str(m.log_path),
         "wall_s": round(time.monotonic() - t0, 1),
         "busy_us": after["busy_us"] - before["busy_us"],
         "idle_us": after["idle_us"] - before["idle_us"], "per_guest": per}
    derive(r)
    log(f"bench-elvis: {mode:8} guests={nguests} qd={qd:<2} rps={r['rps']:.0f} "
        f"exits_io/req={r['exits_io_per_req']:.3f} exits/req={r['exits_per_req']:.3f} "
        f"irqs/req={r['irqs_per_req']:.3f} busy={r['sidecore_busy']} "
        f"({r['wall_s']} s wall)", flush=True)
    return r


def derive(r):
    """The table's figures of one run, from its raw counts (also used to redo
    the table from a JSON file, --table-from)."""
    per = r["per_guest"]
    req = sum(p["requests"] for p in per.values()) or 1
    # The sidecore's busy time over the time the guests issued requests (the
    # longest guest's own measured span), not over the whole stats window, which
    # also holds the guests' wait before they start. Files from before busy_us
    # was kept carry the share itself.
    busy, idle = r.get("busy_us"), r.get("idle_us")
    share = r.get("sidecore_busy")
    span = max((p["us"] for p in per.values()), default=0)
    if busy is not None and idle is not None:
        share = min(1.0, busy / span) if r["mode"] == "sidecore" and span else None
    r.update({
        "rps": sum(p["requests_guest"] / (p["us"] / 1e6) for p in per.values()),
        "exits_io_per_req": sum(p["exits_io"] for p in per.values()) / req,
        "exits_per_req": sum(p["exits"] - p["exit_portio"] for p in per.values()) / req,
        # Interrupts the guests took (the device's MSIs that arrived while the
        # vector was still pending merge into one), and the MSIs it sent.
        "irqs_per_req": sum(p["irqs_guest"] for p in per.values())
        / (sum(p["requests_guest"] for p in per.values()) or 1),
        "msi_per_req": sum(p["msi"] for p in per.values()) / req,
        "sidecore_busy": share,
        "clean_start": all(p["clean_start"] for p in per.values())})
    return r


def summarize(runs, guest_counts, qds):
    """{(guests, qd, mode): {metric: bench_rounds.summary}} over the rounds."""
    out = {}
    for n in guest_counts:
        for qd in qds:
            for mode in MODES:
                sel = [r for r in runs if (r["guests"], r["qd"], r["mode"]) == (n, qd, mode)]
                if not sel:
                    continue
                s = {k: rounds.summary([r.get(k) for r in sel]) for k in METRICS}
                s = {k: v for k, v in s.items() if v is not None}
                s["rounds"] = len(sel)
                out[(n, qd, mode)] = s
    return out


def served(summary, mode, qd, guest_counts):
    """Guests one sidecore serves before the aggregate falls below 0.95 of linear:
    the largest measured n for which it and every smaller measured count hold."""
    base = summary.get((1, qd, mode), {}).get("rps")
    if not base:
        return None
    best = None
    for n in sorted(guest_counts):
        s = summary.get((n, qd, mode), {}).get("rps")
        if not s or s["median"] < LINEAR * n * base["median"]:
            break
        best = n
    return best


def fmt(k):
    return "{:.0f}" if k == "rps" else ("{:.0%}" if k == "sidecore_busy" else "{:.3f}")


def table(summary, guest_counts, qds, header):
    lines = [header, ""]
    cols = ("guests", "QD", "metric", "io = sidecore  median [min-max]",
            "io = trap  median [min-max]", "")
    lines.append(f"{cols[0]:>6} {cols[1]:>3}  {cols[2]:<22} {cols[3]:<34} {cols[4]:<30}")
    names = {"rps": "requests/s (guest)", "exits_io_per_req": "I/O exits/request",
             "exits_per_req": "exits/request (all)", "irqs_per_req": "interrupts/request",
             "msi_per_req": "  MSIs sent/request",
             "sidecore_busy": "sidecore busy (run)"}
    for n in guest_counts:
        for qd in qds:
            sc, tr = summary.get((n, qd, "sidecore"), {}), summary.get((n, qd, "trap"), {})
            if not sc and not tr:
                continue
            for k in METRICS:
                note = ""
                if sc.get(k) and tr.get(k):
                    note = rounds.verdict(sc[k], tr[k], ("sidecore", "trap"))
                lines.append(f"{n:>6} {qd:>3}  {names[k]:<22} {rounds.cell(sc.get(k), fmt(k)):<34} "
                             f"{rounds.cell(tr.get(k), fmt(k)):<30} {note}".rstrip())
    lines.append("")
    for mode in MODES:
        for qd in qds:
            s = served(summary, mode, qd, guest_counts)
            lines.append(f"io = {mode:8} QD {qd:>2}: one sidecore serves "
                         f"{s if s is not None else '-'} of {max(guest_counts)} guests measured "
                         f"within {LINEAR} of linear (ELVIS: 7)" if mode == "sidecore" else
                         f"io = {mode:8} QD {qd:>2}: {s if s is not None else '-'} guests within "
                         f"{LINEAR} of linear (each guest on its own core)")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emulator", choices=("svm", "bochs"), default="svm",
                    help="QEMU TCG with AMD-V (default) or Bochs with VT-x")
    ap.add_argument("--guests", default="1,2,4,7",
                    help="guest counts (default 1,2,4,7: 9 emulated CPUs at most)")
    ap.add_argument("--qd", default="1,8,32", help="queue depths (1, 8, 32)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, sides alternating")
    ap.add_argument("--latency", default="", help="null disk latency, e.g. 20us (default 0)")
    ap.add_argument("--timeout", type=int, default=240, help="wall seconds per boot")
    ap.add_argument("--json", default=None, help="output file (default BUILD/bench-elvis.json)")
    ap.add_argument("--table-from", metavar="JSON", default=None,
                    help="no runs: print the table again from an earlier run's file")
    a = ap.parse_args(argv)
    if a.table_from:
        data = json.loads(Path(a.table_from).read_text())
        runs = [derive(r) for r in data["runs"]]
        gc = sorted({r["guests"] for r in runs})
        qs = sorted({r["qd"] for r in runs})
        print(table(summarize(runs, gc, qs), gc, qs, data["header"]))
        return 0
    guest_counts = [int(x) for x in a.guests.split(",")]
    qds = [int(x) for x in a.qd.split(",")]
    if any(q not in (1, 8, 32) for q in qds):
        raise SystemExit("bench-elvis: --qd takes 1, 8 and 32 (the guests built)")
    out = Path(a.json) if a.json else build_dir() / "bench-elvis.json"
    emu = ("QEMU TCG, AMD-V (EPYC,+svm,+npt)" if a.emulator == "svm"
           else f"Bochs, VT-x ({BOCHS_CPU_MODEL})")
    header = (f"bench-elvis: {emu}; guests {guest_counts}, QD {qds}, {a.rounds} round(s), "
              f"4 KiB reads on null:1G latency {a.latency or '0'}, 2 s per guest; "
              f"machine = guests + 2 CPUs")
    print(header, flush=True)
    runs = []
    result = {"header": header, "emulator": a.emulator, "guests": guest_counts, "qd": qds,
              "rounds": a.rounds, "latency": a.latency or "0", "runs": runs,
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    status = 0
    for rnd in range(a.rounds):
        order = rounds.turn_order(MODES, rnd)
        for n in guest_counts:
            for qd in qds:
                for mode in order:
                    r = None
                    for attempt in (1, 2):
                        try:
                            r = run_one(mode, n, qd, a.emulator, a.latency, a.timeout)
                            break
                        except MachineError as e:
                            print(f"bench-elvis: {mode} guests={n} qd={qd} attempt {attempt}: "
                                  f"{str(e).splitlines()[0]}", file=sys.stderr, flush=True)
                            result.setdefault("failed", []).append(
                                {"round": rnd, "mode": mode, "guests": n, "qd": qd,
                                 "error": str(e).splitlines()[0]})
                    if r is None:
                        status = 1
                        continue
                    r["round"] = rnd
                    runs.append(r)
                    out.write_text(json.dumps(result, indent=1))
    summary = summarize(runs, guest_counts, qds)
    result["summary"] = [{"guests": n, "qd": qd, "mode": mode, **s}
                         for (n, qd, mode), s in summary.items()]
    result["served"] = {f"{mode}/qd{qd}": served(summary, mode, qd, guest_counts)
                        for mode in MODES for qd in qds}
    text = table(summary, guest_counts, qds, header)
    out.write_text(json.dumps(result, indent=1))
    out.with_suffix(".txt").write_text(text + "\n")
    print("\n" + text)
    print(f"\nbench-elvis: every run's numbers in {out}, the table in {out.with_suffix('.txt')}")
    return status


if __name__ == "__main__":
    sys.exit(main())
