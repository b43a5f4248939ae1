#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""NVMe random-read benchmark (`make bench-nvme`): Sidecore's NVMe driver against
Linux's, on the same emulated controller, in one invocation.

Both runs use QEMU (TCG, -M q35, SeaBIOS, a GRUB ISO), the same CPUs and memory,
and the same NVMe device: one controller (`-device nvme`) with one namespace
(`-device nvme-ns`, 512-byte blocks) backed by one raw image file filled with
data, which neither run writes.
  Sidecore  the default image (BUILD/sidecore.iso); at its shell,
            `blktest nvme:0:1 randread qd=N count=C` for every queue depth N
            (the guest block path - virtio-blk driver and device on one spare
            core - onto Sidecore's NVMe driver, no guest involved);
  Linux     Debian's kernel booted bare (tools/linux-guest/mkbare-iso.sh) with
            the fio initramfs (tools/linux-guest/build-fio-initramfs.sh), whose
            /init (tools/linux-guest/init-fio) runs fio on /dev/nvme0n1 once per
            queue depth: libaio, O_DIRECT, 4 KiB random reads, exactly C requests.
It prints per queue depth: IOPS, mean and 99th-percentile latency of each side
(latency of the whole request, submission to completion; fio's lat, not clat),
and Sidecore's IOPS as a multiple of Linux's.

QEMU's TCG emulates the CPU and the NVMe controller in software, on threads of
this machine, so the absolute numbers say little about hardware: they measure
the emulator as much as either driver. Exit status 0 when both sides produced a
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

from machine import Machine, MachineError, build_dir  # noqa: E402

CAVEAT = ("QEMU TCG emulates the CPU and the NVMe controller in software, so these "
          "numbers measure\nthe emulator as much as either driver; they say little "
          "about real hardware. Compare the\ntwo columns with each other, not with a "
          "datasheet.")

BLKTEST_RE = re.compile(
    r"^blktest: result=(?P<result>\S+) op=(?P<op>\S+) qd=(?P<qd>\d+) requests=(?P<requests>\d+)"
    r" iops=(?P<iops>\d+(?:\.\d+)?) mean_us=(?P<mean>\d+(?:\.\d+)?)"
    r" p99_us=(?P<p99>\d+(?:\.\d+)?) max_us=(?P<max>\d+(?:\.\d+)?)\s*$", re.M)
# Every console pattern ends at a newline: the console arrives in pieces, and a
# match must not end inside a line that is still coming.
FIO_BEGIN_RE = r"^FIO-BENCH: json-begin qd=(?P<qd>\d+) rc=(?P<rc>-?\d+)[ \t]*\n"


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


def run_sidecore(a, image, result):
    m = Machine("bench-nvme-sidecore", emulator="qemu", media="iso", smp=a.smp,
                memory=a.memory, extra_args=nvme_args(image), timeout=a.timeout)
    result["log"] = m.log_path
    result["qd"] = {}
    with m:
        m.wait_ready(300)
        listing = m.command("nvme", timeout=120)
        if not re.search(r"^nvme0 .*state=online", listing, re.M):
            raise BenchError(f"`nvme` shows no online nvme0:\n{listing.strip()}")
        for qd in a.qd:
            cmd = f"blktest nvme:0:1 randread qd={qd} count={a.count}"
            print(f"bench-nvme: sidecore: {cmd}", flush=True)
            out = m.command(cmd, timeout=a.run_timeout)
            try:
                result["qd"][qd] = parse_blktest(out, qd, a.count)
            except BenchError as e:
                result["qd"][qd] = {"error": str(e)}
                print(f"bench-nvme: sidecore qd={qd}: {e}", file=sys.stderr)


def run_linux(a, image, result):
    lg = build_dir() / "linux"
    kernel, initrd = lg / "vmlinuz", lg / "initrd-fio.gz"
    for f in (kernel, initrd):
        if not f.exists():
            raise BenchError(f"{f} missing (make bench-nvme builds it)")
    iso = build_dir() / "images" / "bench-nvme" / "linux-fio.iso"
    iso.parent.mkdir(parents=True, exist_ok=True)
    cmdline = (f"console=ttyS0 sidecore.fio_qd={','.join(map(str, a.qd))} "
               f"sidecore.fio_count={a.count} sidecore.fio_dev=/dev/nvme0n1")
    subprocess.run([str(REPO / "tools/linux-guest/mkbare-iso.sh"), str(iso), str(kernel),
                    str(initrd), cmdline], check=True, stdout=subprocess.DEVNULL)
    m = Machine("bench-nvme-linux", emulator="qemu", media="iso", image=iso, smp=a.smp,
                memory=a.memory, extra_args=nvme_args(image), timeout=a.timeout)
    result["log"] = m.log_path
    result["qd"] = {}
    with m:
        first = m.expect(r"^FIO-BENCH: userspace uptime=\S+ kernel=(\S+)[ \t]*\n", 600,
                         what="the first FIO-BENCH line")
        result["kernel"] = first[1]
        disk = m.expect(r"^FIO-BENCH: disk=(\S+)(.*)\n", 120, what="the disk line")
        if disk[1] == "missing":
            raise BenchError("Linux found no /dev/nvme0n1 (nvme modules not loaded?)")
        result["disk"] = f"{disk[1]}{disk[2]}".strip()
        for qd in a.qd:
            print(f"bench-nvme: linux: fio randread qd={qd}", flush=True)
            begin = m.expect(FIO_BEGIN_RE, a.run_timeout, what=f"fio's report for qd={qd}")
            start = m._pos
            end = m.expect(rf"^FIO-BENCH: json-end qd={qd}[ \t]*\n", 120,
                           what=f"the end of fio's report for qd={qd}")
            text = m.log[start:end.start()]
            try:
                if int(begin["qd"]) != qd:
                    raise BenchError(f"fio ran qd={begin['qd']}, want {qd}")
                if begin["rc"] != "0":
                    raise BenchError(f"fio exited with {begin['rc']}: "
                                     f"{' '.join(text.split())[-300:]}")
                result["qd"][qd] = parse_fio_json(text, qd, a.count)
            except BenchError as e:
                result["qd"][qd] = {"error": str(e)}
                print(f"bench-nvme: linux qd={qd}: {e}", file=sys.stderr)
        m.expect(r"^FIO-BENCH: done[ \t]*\n", 120, what="FIO-BENCH: done")


def attempt(name, fn, result):
    start = time.monotonic()
    try:
        fn()
    except (BenchError, MachineError, subprocess.CalledProcessError, OSError) as e:
        result["error"] = str(e).splitlines()[0]
        print(f"bench-nvme: {name}: {e}", file=sys.stderr)
    result["wall_s"] = time.monotonic() - start
    if "log" in result:
        print(f"bench-nvme: {name}: {result['wall_s']:.0f} s, log {result['log']}", flush=True)


def cells(side, qd):
    r = side.get("qd", {}).get(qd)
    if r is None:
        return ["failed" if "error" in side else "-"] * 3
    if "error" in r:
        return ["failed"] * 3
    return [f"{r['iops']:.0f}", f"{r['mean_us']:.1f}", f"{r['p99_us']:.1f}"]


def table(qds, side, linux):
    head = (f"{'qd':>4} | {'Sidecore IOPS':>13} {'mean us':>9} {'p99 us':>9} | "
            f"{'Linux IOPS':>10} {'mean us':>9} {'p99 us':>9} | {'IOPS Sidecore/Linux':>19}")
    rows = [head, "-" * len(head)]
    for qd in qds:
        s, lx = cells(side, qd), cells(linux, qd)
        sr, lr = side.get("qd", {}).get(qd, {}), linux.get("qd", {}).get(qd, {})
        ratio = (f"{sr['iops'] / lr['iops']:.2f}" if "iops" in sr and lr.get("iops") else "-")
        rows.append(f"{qd:>4} | {s[0]:>13} {s[1]:>9} {s[2]:>9} | "
                    f"{lx[0]:>10} {lx[1]:>9} {lx[2]:>9} | {ratio:>19}")
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
    ap.add_argument("--image-mib", type=int, default=64, help="namespace size in MiB")
    ap.add_argument("--smp", type=int, default=2, help="CPUs of both machines")
    ap.add_argument("--memory", type=int, default=512, help="MiB of both machines")
    ap.add_argument("--timeout", type=int, default=1800, help="wall seconds per machine")
    ap.add_argument("--run-timeout", type=int, default=600,
                    help="wall seconds one queue depth may take")
    ap.add_argument("--only", choices=["sidecore", "linux"], help="run one side only")
    a = ap.parse_args()
    if a.count < 1 or a.image_mib < 1:
        raise SystemExit("bench-nvme: --count and --image-mib must be positive")

    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    print(f"bench-nvme: {qemu}, TCG, q35, {a.smp} CPUs, {a.memory}M; one NVMe controller, "
          f"one {a.image_mib} MiB namespace (512-byte blocks)", flush=True)
    print(f"bench-nvme: 4 KiB random reads, {a.count} per queue depth, queue depths "
          f"{', '.join(map(str, a.qd))}", flush=True)
    out = build_dir() / "images" / "bench-nvme"
    out.mkdir(parents=True, exist_ok=True)
    image = out / "nvme.img"
    make_image(image, a.image_mib)

    side, linux = {}, {}
    if a.only != "linux":
        attempt("sidecore", lambda: run_sidecore(a, image, side), side)
    if a.only != "sidecore":
        attempt("linux", lambda: run_linux(a, image, linux), linux)

    print()
    print(table(a.qd, side, linux))
    print()
    if linux.get("kernel"):
        print(f"Linux: {linux['kernel']}, nvme driver, fio libaio O_DIRECT ({linux.get('disk')})")
    print("Sidecore: blktest nvme:0:1 - its guest block path (virtio-blk driver and device "
          "on one spare core) onto its NVMe driver")
    print("Latency: whole request, submission to completion (fio: lat, not clat).")
    print(CAVEAT)
    for name, r in (("sidecore", side), ("linux", linux)):
        if "error" in r:
            print(f"{name}: failed: {r['error']}")
        for qd, q in sorted(r.get("qd", {}).items()):
            if "error" in q:
                print(f"{name} qd={qd}: failed: {q['error'].splitlines()[0]}")
    ran = [r for r, skip in ((side, "linux"), (linux, "sidecore")) if a.only != skip]
    ok = all("error" not in r and all("iops" in r.get("qd", {}).get(q, {}) for q in a.qd)
             for r in ran)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
