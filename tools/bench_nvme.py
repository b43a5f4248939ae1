#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""NVMe random-read benchmark (`make bench-nvme`): Sidecore's NVMe driver against
Linux's, and a Linux guest's disk on it, on the same emulated controller, in one
invocation.

Every run uses the same QEMU (TCG, -M q35, -cpu EPYC,+svm,+npt, SeaBIOS, a GRUB
ISO) and the same NVMe device: one controller (`-device nvme`) with one namespace
(`-device nvme-ns`, 512-byte blocks) backed by one raw image file filled with
data, which no run writes. Three sides:
  blktest   Sidecore's default image (BUILD/sidecore.iso), SMP CPUs; at its shell,
            `blktest nvme:0:1 randread qd=N count=C` for every queue depth N
            (the guest block path - virtio-blk driver and device on one spare
            core - onto Sidecore's NVMe driver, no guest involved);
  linux     Debian's kernel booted bare (tools/linux-guest/mkbare-iso.sh) with
            the fio initramfs (tools/linux-guest/build-fio-initramfs.sh), SMP
            CPUs, whose /init (tools/linux-guest/init-fio) runs fio on
            /dev/nvme0n1 once per queue depth: libaio, O_DIRECT, 4 KiB random
            reads, exactly C requests;
  guest     the same kernel and initramfs as a guest of Sidecore under AMD-V
            (the SVM backend, nested paging), SMP vCPUs, its disk
            `disk = nvme:0:1:0M+SIZE` (the whole namespace, served by the I/O
            sidecore through Sidecore's NVMe driver): the same fio runs on its
            /dev/vda (Linux's virtio_blk). The machine has the boot CPU, the
            guest's cores and one I/O sidecore (SMP + 2 CPUs).
The sides run --rounds times, in an order that rotates each round. Per queue
depth and side it prints the median and spread (lowest..highest) of IOPS, mean
and 99th-percentile latency (of the whole request, submission to completion;
fio's lat, not clat), and each side's IOPS against bare Linux's, saying "no clear
difference" where the spreads overlap. Every run's numbers go to a JSON file
(--json; default BUILD/bench/bench-nvme-TIME.json).

QEMU's TCG emulates the CPU and the NVMe controller in software, on threads of
this machine, so the absolute numbers say little about hardware: they measure
the emulator as much as either driver. Exit status 0 when every run produced a
number at every queue depth."""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

sys.path.insert(0, str(REPO / "tools"))

from bench_rounds import cell, default_json_path, order, ratio_verdict, summary, write_json  # noqa: E402
from machine import Machine, MachineError, build_dir  # noqa: E402
from scenarios import fresh_command, image_for, parse_stats  # noqa: E402

SIDES = ("blktest", "linux", "guest")
TITLES = {"blktest": "Sidecore blktest", "linux": "Linux bare (nvme)",
          "guest": "Linux guest under Sidecore (vda)"}
GUEST = "fio"

CAVEAT = ("QEMU TCG emulates the CPU and the NVMe controller in software, so these "
          "numbers measure\nthe emulator as much as any driver; they say little "
          "about real hardware. Compare the\nsides with each other, not with a "
          "datasheet.")

BLKTEST_RE = re.compile(
    r"^blktest: result=(?P<result>\S+) op=(?P<op>\S+) qd=(?P<qd>\d+) requests=(?P<requests>\d+)"
    r" iops=(?P<iops>\d+(?:\.\d+)?) mean_us=(?P<mean>\d+(?:\.\d+)?)"
    r" p99_us=(?P<p99>\d+(?:\.\d+)?) max_us=(?P<max>\d+(?:\.\d+)?)\s*$", re.M)
# Every console pattern (read_fio_reports) ends at a newline: the console arrives
# in pieces, and a match must not end inside a line that is still coming.


class BenchError(Exception):
    """A side could not produce a number; the message says why."""


def parse_blktest(output, qd, count):
    """The numbers of blktest's final line in a command's output:
    {"iops", "mean_us", "p99_us", "max_us", "requests"}. Raises BenchError if the line is
    missing, says result=fail, or describes another run."""
    lines = list(BLKTEST_RE.finditer(output))
    if not lines:
        tail = " | ".join(output.strip().splitlines()[-3:]) or "(no output)"
        raise BenchError(f"no 'blktest: result=...' line; it printed: {tail}")
    m = lines[-1]
    if m["result"] != "pass":
        raise BenchError(f"blktest reported {m[0].strip()}")
    if m["op"] != "randread" or int(m["qd"]) != qd or int(m["requests"]) != count:
        raise BenchError(f"blktest's line is for another run (want randread qd={qd} "
                         f"requests={count}): {m[0].strip()}")
    return {"iops": float(m["iops"]), "mean_us": float(m["mean"]), "p99_us": float(m["p99"]),
            "max_us": float(m["max"]), "requests": int(m["requests"])}


def parse_fio_json(text, qd, count):
    """The numbers of one fio JSON report (one job, random reads):
    {"iops", "mean_us", "p99_us", "max_us", "requests"}; latencies are fio's lat (whole
    request). Raises BenchError on a report that is not what init-fio asked for."""
    start = text.find("{")
    if start < 0:
        raise BenchError(f"fio printed no JSON report: {text.strip()[:300]!r}")
    try:
        report = json.loads(text[start:text.rfind("}") + 1])
        jobs = report["jobs"]
        if len(jobs) != 1:
            raise BenchError(f"fio's report holds {len(jobs)} jobs, want 1")
        job = jobs[0]
        opts = job.get("job options", {})
        if job.get("error"):
            raise BenchError(f"fio job error {job['error']}")
        if opts.get("iodepth") not in (None, str(qd)) or opts.get("rw") not in (None, "randread"):
            raise BenchError(f"fio's report is for iodepth={opts.get('iodepth')} "
                             f"rw={opts.get('rw')}, want iodepth={qd} rw=randread")
        read = job["read"]
        lat = read["lat_ns"]
        pct = lat["percentile"]
        p99 = next((v for k, v in pct.items() if float(k) == 99.0), None)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise BenchError(f"fio's JSON report cannot be read ({type(e).__name__}: {e})")
    if p99 is None:
        raise BenchError("fio's report has no 99th percentile of lat_ns")
    if read["total_ios"] != count:
        raise BenchError(f"fio did {read['total_ios']} reads, want {count}")
    return {"iops": float(read["iops"]), "mean_us": lat["mean"] / 1000.0, "p99_us": p99 / 1000.0,
            "max_us": lat["max"] / 1000.0, "requests": int(read["total_ios"])}


def make_image(path, mib):
    """A raw image of mib MiB, every block holding data (not a sparse hole), so both
    runs read the same bytes through the same host page cache."""
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block)


def nvme_args(image):
    return ["-drive", f"if=none,id=bench0,format=raw,file={image}",
            "-device", "nvme,id=benchc0,serial=sc-bench",
            "-device", "nvme-ns,drive=bench0,bus=benchc0,nsid=1"]


def qemu_args(a, image):
    return ["-cpu", a.cpu] + nvme_args(image)


def run_blktest(a, image, result, name):
    m = Machine(name, emulator="qemu", media="iso", smp=a.smp,
                memory=a.memory, extra_args=qemu_args(a, image), timeout=a.timeout)
    result["log"] = str(m.log_path)
    result["qd"] = {}
    with m:
        m.wait_ready(300)
        listing = m.command("nvme", timeout=120)
        if not re.search(r"^nvme0 .*state=online", listing, re.M):
            raise BenchError(f"`nvme` shows no online nvme0:\n{listing.strip()}")
        for qd in a.qd:
            cmd = f"blktest nvme:0:1 randread qd={qd} count={a.count}"
            print(f"bench-nvme: blktest: {cmd}", flush=True)
            out = m.command(cmd, timeout=a.run_timeout)
            try:
                result["qd"][qd] = parse_blktest(out, qd, a.count)
            except BenchError as e:
                result["qd"][qd] = {"error": str(e)}
                print(f"bench-nvme: blktest qd={qd}: {e}", file=sys.stderr)


def fio_cmdline(a, dev):
    return (f"console=ttyS0 sidecore.fio_qd={','.join(map(str, a.qd))} "
            f"sidecore.fio_count={a.count} sidecore.fio_dev={dev}")


def fio_files():
    lg = build_dir() / "linux"
    kernel, vmlinux, initrd = lg / "vmlinuz", lg / "vmlinux", lg / "initrd-fio.gz"
    for f in (kernel, vmlinux, initrd):
        if not f.exists():
            raise BenchError(f"{f} missing (make bench-nvme builds it)")
    return kernel, initrd


def read_fio_reports(a, m, prefix, result, side):
    """The FIO-BENCH lines of init-fio on m's console, each line starting with
    prefix (a regex: "" bare, the guest's "[NAME] " under Sidecore)."""
    first = m.expect(rf"^{prefix}FIO-BENCH: userspace uptime=(\S+) kernel=(\S+)[ \t]*\n",
                     a.boot_timeout, what="the first FIO-BENCH line")
    result["uptime_at_userspace"] = float(first[1])
    result["kernel"] = first[2]
    disk = m.expect(rf"^{prefix}FIO-BENCH: disk=(\S+)(.*)\n", 120, what="the disk line")
    if disk[1] == "missing":
        raise BenchError("Linux found no disk (modules not loaded?)")
    result["disk"] = f"{disk[1]}{disk[2]}".strip()
    for qd in a.qd:
        print(f"bench-nvme: {side}: fio randread qd={qd}", flush=True)
        begin = m.expect(rf"^{prefix}FIO-BENCH: json-begin qd=(?P<qd>\d+) rc=(?P<rc>-?\d+)[ \t]*\n",
                         a.run_timeout, what=f"fio's report for qd={qd}")
        start = m._pos
        end = m.expect(rf"^{prefix}FIO-BENCH: json-end qd={qd}[ \t]*\n", 120,
                       what=f"the end of fio's report for qd={qd}")
        text = m.log[start:end.start()]
        if prefix:
            # Only the guest's own lines, without their prefix (Sidecore's
            # messages may land between them).
            text = "\n".join(re.sub(rf"^{prefix}", "", line) for line in text.splitlines()
                             if re.match(prefix, line))
        try:
            if int(begin["qd"]) != qd:
                raise BenchError(f"fio ran qd={begin['qd']}, want {qd}")
            if begin["rc"] != "0":
                raise BenchError(f"fio exited with {begin['rc']}: "
                                 f"{' '.join(text.split())[-300:]}")
            result["qd"][qd] = parse_fio_json(text, qd, a.count)
        except BenchError as e:
            result["qd"][qd] = {"error": str(e)}
            print(f"bench-nvme: {side} qd={qd}: {e}", file=sys.stderr)
    m.expect(rf"^{prefix}FIO-BENCH: done[ \t]*\n", 120, what="FIO-BENCH: done")


def run_linux(a, image, result, name):
    kernel, initrd = fio_files()
    iso = build_dir() / "images" / "bench-nvme" / "linux-fio.iso"
    if not iso.exists():
        iso.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(REPO / "tools/linux-guest/mkbare-iso.sh"), str(iso), str(kernel),
                        str(initrd), fio_cmdline(a, "/dev/nvme0n1")], check=True,
                       stdout=subprocess.DEVNULL)
    m = Machine(name, emulator="qemu", media="iso", image=iso, smp=a.smp,
                memory=a.memory, extra_args=qemu_args(a, image), timeout=a.timeout)
    result["log"] = str(m.log_path)
    result["qd"] = {}
    with m:
        read_fio_reports(a, m, "", result, "linux")


def guest_config(a):
    """BUILD/linux/bench-nvme-vm.cfg: the fio initramfs as a Sidecore guest whose
    virtio disk is the whole namespace, served by the I/O sidecore."""
    cfg = build_dir() / "linux" / "bench-nvme-vm.cfg"
    cfg.write_text(f"""# Written by tools/bench_nvme.py (make bench-nvme): the guest side.
[hypervisor]
console = com1,115200
sidecores = auto

[guest {GUEST}]
cpus = {a.smp}
memory = {a.memory}M
kernel = vmlinux
initrd = initrd-fio.gz
cmdline = {fio_cmdline(a, "/dev/vda")}
disk = nvme:0:1:0M+{a.image_mib}M
io = sidecore
on_poweroff = stop
""")
    return cfg


def run_guest(a, image, result, name, iso):
    fio_files()
    m = Machine(name, emulator="qemu", media="iso", image=iso, smp=a.smp + 2,
                memory=a.memory + 512, extra_args=qemu_args(a, image), timeout=a.timeout)
    result["log"] = str(m.log_path)
    result["qd"] = {}
    with m:
        m.wait_ready(300)
        if not re.search(r"AMD-V: nested paging\s+yes", m.log):
            raise BenchError("Sidecore's boot log shows no 'AMD-V: nested paging yes'")
        read_fio_reports(a, m, rf"\[{GUEST}\] ", result, "guest")
        m.expect(rf"^sidecore: guest {GUEST} stopped: .*\n", 120,
                 what=f"'sidecore: guest {GUEST} stopped'")
        stats = parse_stats(fresh_command(m, "stats"))
        result["stats"] = {f"vcpu{v}": s for (g, v), s in stats.items() if g == GUEST}


def attempt(name, fn, result):
    start = time.monotonic()
    try:
        fn()
    except (BenchError, MachineError, subprocess.CalledProcessError, OSError) as e:
        result["error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"bench-nvme: {name}: {e}", file=sys.stderr)
    result["wall_s"] = time.monotonic() - start
    if "log" in result:
        print(f"bench-nvme: {name}: {result['wall_s']:.0f} s, log {result['log']}", flush=True)


def side_summary(runs, side, qd, key):
    return summary([r["qd"][qd].get(key) for r in runs
                    if r["side"] == side and qd in r.get("qd", {})])


def table(a, runs):
    sides = [s for s in SIDES if any(r["side"] == s for r in runs)]
    head = (f"{'qd':>4}  {'side':34} {'IOPS':>20} {'mean us':>22} {'p99 us':>22}  "
            f"IOPS against Linux bare")
    rows = [head, "-" * len(head)]
    for qd in a.qd:
        base = side_summary(runs, "linux", qd, "iops")
        for s in sides:
            iops = side_summary(runs, s, qd, "iops")
            vs = ratio_verdict(iops, base) if s != "linux" else ""
            rows.append(f"{qd:>4}  {TITLES[s]:34} {cell(iops, '{:.0f}'):>20} "
                        f"{cell(side_summary(runs, s, qd, 'mean_us'), '{:.1f}'):>22} "
                        f"{cell(side_summary(runs, s, qd, 'p99_us'), '{:.1f}'):>22}  {vs}")
    return "\n".join(rows)


def qd_list(text):
    try:
        qds = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text}")
    if not qds or any(q < 1 or q > 1024 for q in qds):
        raise argparse.ArgumentTypeError(f"queue depths must be 1..1024: {text}")
    return qds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qd", type=qd_list, default=[1, 8, 32], help="queue depths (1,8,32)")
    ap.add_argument("--count", type=int, default=10000, help="4 KiB reads per queue depth")
    ap.add_argument("--rounds", type=int, default=3, help="runs of every side (3)")
    ap.add_argument("--image-mib", type=int, default=64, help="namespace size in MiB")
    ap.add_argument("--smp", type=int, default=2,
                    help="CPUs of the blktest and bare Linux machines, vCPUs of the guest")
    ap.add_argument("--memory", type=int, default=512, help="MiB of Linux (bare and guest)")
    ap.add_argument("--cpu", default="EPYC,+svm,+npt", help="QEMU -cpu of every run")
    ap.add_argument("--timeout", type=int, default=1800, help="wall seconds per machine")
    ap.add_argument("--boot-timeout", type=int, default=600,
                    help="wall seconds until Linux's userspace")
    ap.add_argument("--run-timeout", type=int, default=600,
                    help="wall seconds one queue depth may take")
    ap.add_argument("--only", help="comma-separated sides to run (blktest,linux,guest)")
    ap.add_argument("--json", type=Path, help="where every run's numbers go")
    a = ap.parse_args()
    if a.count < 1 or a.image_mib < 1 or a.rounds < 1:
        raise SystemExit("bench-nvme: --count, --image-mib and --rounds must be positive")
    sides = list(SIDES)
    if a.only:
        sides = [s.strip() for s in a.only.split(",")]
        if any(s not in SIDES for s in sides):
            raise SystemExit(f"bench-nvme: --only takes {','.join(SIDES)}")

    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    print(f"bench-nvme: {qemu}, TCG, q35, -cpu {a.cpu}; {a.smp} CPUs for blktest and bare "
          f"Linux, {a.smp} vCPUs for the guest (+ boot CPU + I/O sidecore); one NVMe "
          f"controller, one {a.image_mib} MiB namespace (512-byte blocks)", flush=True)
    print(f"bench-nvme: 4 KiB random reads, {a.count} per queue depth, queue depths "
          f"{', '.join(map(str, a.qd))}; sides {', '.join(sides)}, {a.rounds} round(s), "
          f"order rotating", flush=True)
    out = build_dir() / "images" / "bench-nvme"
    out.mkdir(parents=True, exist_ok=True)
    image = out / "nvme.img"
    make_image(image, a.image_mib)
    # Built once: a fresh ISO per invocation (the cmdline names this run's settings).
    (out / "linux-fio.iso").unlink(missing_ok=True)
    guest_iso = None
    if "guest" in sides:
        guest_iso = image_for("bench-nvme-vm", guest_config(a))

    runs = []
    for rnd in range(a.rounds):
        for s in order(sides, rnd):
            result = {"side": s, "round": rnd + 1, "qd": {}}
            name = f"bench-nvme-{s}-r{rnd + 1}"
            fn = {"blktest": lambda: run_blktest(a, image, result, name),
                  "linux": lambda: run_linux(a, image, result, name),
                  "guest": lambda: run_guest(a, image, result, name, guest_iso)}[s]
            print(f"bench-nvme: round {rnd + 1}: {TITLES[s]}", flush=True)
            attempt(f"{s} round {rnd + 1}", fn, result)
            runs.append(result)

    settings = {"qemu": qemu, "cpu": a.cpu, "smp": a.smp, "memory_mib": a.memory,
                "image_mib": a.image_mib, "count": a.count, "qd": a.qd, "rounds": a.rounds,
                "sides": sides}
    path = write_json(a.json or default_json_path(build_dir(), "bench-nvme"), "bench-nvme",
                      settings, runs)
    print()
    print(table(a, runs))
    print()
    print(f"(median [lowest-highest] of {a.rounds} round(s); the last column is the side's "
          f"median IOPS over bare Linux's)")
    kernels = {r["kernel"] for r in runs if r.get("kernel")}
    if kernels:
        guest = (f", the guest on virtio_blk (disk = nvme:0:1:0M+{a.image_mib}M, io = sidecore)"
                 if "guest" in sides else "")
        print(f"Linux: {', '.join(sorted(kernels))}, fio libaio O_DIRECT; bare on its nvme "
              f"driver{guest}")
    print("Sidecore blktest: its guest block path (virtio-blk driver and device on one spare "
          "core) onto its NVMe driver")
    print("Latency: whole request, submission to completion (fio: lat, not clat).")
    print(CAVEAT)
    for r in runs:
        if "error" in r:
            print(f"{r['side']} round {r['round']}: failed: {r['error']}")
        for qd, q in sorted(r.get("qd", {}).items()):
            if "error" in q:
                print(f"{r['side']} round {r['round']} qd={qd}: failed: "
                      f"{q['error'].splitlines()[0]}")
    print(f"every run: {path}")
    ok = all("error" not in r and all("iops" in r.get("qd", {}).get(q, {}) for q in a.qd)
             for r in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
