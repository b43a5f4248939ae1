#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Boot-time benchmark of a Linux guest (`make bench-boot`, tools/bench-boot.sh).

Boots the kernel and initramfs of one guest of a config (default: linux0 of
BUILD/linux/one-vcpu.cfg) bare and under Sidecore, in one emulator (--emulator:
bochs, VT-x; or svm, QEMU's TCG with AMD-V and nested paging), over several
rounds in one invocation, alternating which side boots first:
  bare      a GRUB ISO (tools/linux-guest/mkbare-iso.sh) with the guest's cmdline
            plus maxcpus=N, on a machine with as many CPUs as Sidecore's (the
            boot CPU plus one per vCPU): Linux brings up N CPUs, as many as the
            guest has vCPUs, and the spare one waits for a start-up IPI that
            never comes, as Sidecore's boot CPU mostly halts;
  Sidecore  the config's image on that many CPUs;
and prints per figure the median and spread (lowest..highest) of the rounds:
wall seconds from the emulator's start to the guest's first LINUX-GUEST line
(userspace) and to its power-off, the guest's own uptime at that line (its
clock: emulated time in Bochs, close to the host's clock under QEMU), and,
under Sidecore, the guest's exits by reason from `stats` (summed over its vCPUs),
read at the first LINUX-GUEST line and after the power-off. Where the spreads
of the two sides overlap it says "no clear difference". Every run's numbers go
to a JSON file (--json; default BUILD/bench/bench-boot-EMULATOR-TIME.json).
Exit status 0 when every run reached userspace."""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "system"))

sys.path.insert(0, str(REPO / "tools"))

from bench_rounds import cell, default_json_path, order, ratio_verdict, summary, write_json  # noqa: E402
from machine import Machine, MachineError, build_dir  # noqa: E402
from scenarios import image_for, parse_stats  # noqa: E402

# What each --emulator runs: Bochs (VT-x), or QEMU's TCG with AMD-V and nested
# paging (the SVM backend), the CPU model test_svm.py uses.
EMULATORS = {
    "bochs": dict(emulator="bochs"),
    "svm": dict(emulator="qemu", accel="tcg", extra_args=["-cpu", "EPYC,+svm,+npt"]),
}

# Followed by " kernel=": the console arrives in pieces, and a match must not end
# inside the number.
FIRST_RE = r"LINUX-GUEST: userspace uptime=(?P<up>[0-9.]+) kernel="


def guest_config(cfg, guest):
    """{key: value} of [guest NAME] (the first guest when guest is None), and its name."""
    sections, name = {}, None
    for line in cfg.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"\[guest\s+([^\]]+)\]", line)
        if m:
            name = m[1].strip()
            sections[name] = {}
        elif line.startswith("["):
            name = None
        elif name and "=" in line:
            k, _, v = line.partition("=")
            sections[name][k.strip()] = v.strip()
    if not sections:
        raise SystemExit(f"bench-boot: {cfg} has no [guest NAME] section")
    guest = guest or next(iter(sections))
    if guest not in sections:
        raise SystemExit(f"bench-boot: {cfg} has no [guest {guest}]")
    return guest, sections[guest]


def mib(size):
    m = re.fullmatch(r"(\d+)\s*([KMG]?)B?", size, re.I)
    if not m:
        raise SystemExit(f"bench-boot: cannot read memory = {size}")
    return int(m[1]) * {"": 1 / 2**20, "K": 1 / 1024, "M": 1, "G": 1024}[m[2].upper()]


def exits(stats_text, guest):
    """exit_* counts of the guest, summed over its vCPUs."""
    total = {}
    for (g, _), fields in parse_stats(stats_text).items():
        if g == guest:
            for k, v in fields.items():
                if k.startswith("exit_") and isinstance(v, int):
                    total[k] = total.get(k, 0) + v
    return total


def run_bare(name, emu, iso, cpus, memory, timeout, result):
    m = Machine(name, smp=cpus, memory=memory, image=iso, timeout=timeout, **EMULATORS[emu])
    result["log"] = str(m.log_path)
    with m:
        first = m.expect(FIRST_RE, timeout, what="the first LINUX-GUEST line")
        result["first_s"] = time.monotonic() - m._started_at
        result["uptime"] = float(first["up"])
        # As long as a boot may take: on a loaded machine Bochs runs at a
        # fraction of a core, and 120 s did not reach the power-off here.
        m.expect(r"LINUX-GUEST: action=", timeout, what="the action line")
        m.expect(r"reboot: Power down", timeout, what="'reboot: Power down'")
        result["off_s"] = time.monotonic() - m._started_at


def fresh_command(m, text):
    """Runs a shell command when the last prompt has scrolled away under guest
    output: Enter first brings a new one."""
    m.send_line("")
    m.wait_prompt(120)
    return m.command(text, timeout=120)


def run_sidecore(name, emu, iso, guest, cpus, timeout, result):
    m = Machine(name, smp=cpus, memory=512, image=iso, timeout=timeout, **EMULATORS[emu])
    result["log"] = str(m.log_path)
    with m:
        m.expect(r"^sidecore: ready", 300, what="'sidecore: ready'")
        result["ready_s"] = time.monotonic() - m._started_at
        g = re.escape(guest)
        # A guest stopped, or refused, before userspace ends the run at once.
        first = m.expect(rf"^\[{g}\] {FIRST_RE}|^sidecore: guest {g} stopped: .*\n"
                         rf"|^.*ERROR: guest {g}\b.*\n", timeout,
                         what=f"[{guest}]'s first LINUX-GUEST line")
        if not first["up"]:
            raise MachineError(f"before userspace: {first[0].strip()}")
        result["first_s"] = time.monotonic() - m._started_at
        result["uptime"] = float(first["up"])
        result["exits_boot"] = exits(fresh_command(m, "stats"), guest)
        m.expect(rf"^sidecore: guest {g} stopped: .*\n", timeout, what=f"'guest {guest} stopped'")
        result["off_s"] = time.monotonic() - m._started_at
        result["exits_all"] = exits(fresh_command(m, "stats"), guest)


def attempt(name, fn, result):
    try:
        fn()
    except (MachineError, subprocess.CalledProcessError, OSError) as e:
        result["error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"bench-boot: {name}: {result['error']}", file=sys.stderr)
        print(f"bench-boot: {name}: log {result.get('log', '(none)')}", file=sys.stderr)


ROWS = [
    ("wall s to the first LINUX-GUEST line", "first_s", "{:.1f}"),
    ("guest uptime at that line (its clock, s)", "uptime", "{:.2f}"),
    ("wall s to the guest's power-off", "off_s", "{:.1f}"),
    ("wall s to 'sidecore: ready'", "ready_s", "{:.1f}"),
]


def print_table(emu, runs, rounds):
    bare = [r for r in runs if r["side"] == "bare"]
    side = [r for r in runs if r["side"] == "sidecore"]
    print(f"{'':42} {'bare':>22} {'Sidecore':>22}  Sidecore/bare (median; spreads)")
    for label, key, fmt in ROWS:
        b = summary([r.get(key) for r in bare])
        s = summary([r.get(key) for r in side])
        v = ratio_verdict(s, b, "slower", "faster") if key != "ready_s" else ""
        print(f"{label:42} {cell(b, fmt):>22} {cell(s, fmt):>22}  {v}")
    print(f"(median [lowest-highest] of {rounds} round(s); {emu}; runs that stopped with an "
          f"error: {sum(1 for r in runs if 'error' in r)}, their figures up to it kept)")
    print()
    keys = set()
    for r in side:
        keys |= set(r.get("exits_boot", {})) | set(r.get("exits_all", {}))
    if not keys:
        errors = [r["error"] for r in side if "error" in r]
        print(f"exits under Sidecore: none read ({errors[0] if errors else 'not run'})")
        return
    print(f"exits of the guest under Sidecore, all vCPUs (median)  {'to userspace':>12} "
          f"{'whole run':>12}")

    def med(k, which):
        s = summary([r.get(which, {}).get(k, 0) for r in side if which in r])
        return s["median"] if s else None
    for k in sorted(keys, key=lambda k: -(med(k, "exits_all") or med(k, "exits_boot") or 0)):
        b, w = med(k, "exits_boot"), med(k, "exits_all")
        print(f"  {k:52} {'-' if b is None else f'{b:.0f}':>12} {'-' if w is None else f'{w:.0f}':>12}")
    tb = summary([sum(r["exits_boot"].values()) for r in side if "exits_boot" in r])
    tw = summary([sum(r["exits_all"].values()) for r in side if "exits_all" in r])
    print(f"  {'total':52} {cell(tb, '{:.0f}'):>12} {cell(tw, '{:.0f}'):>12}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=build_dir() / "linux" / "one-vcpu.cfg")
    ap.add_argument("--guest", help="guest section to boot (default: the first)")
    ap.add_argument("--emulator", choices=sorted(EMULATORS), default="bochs",
                    help="bochs (VT-x) or svm (QEMU TCG, -cpu EPYC,+svm,+npt)")
    ap.add_argument("--rounds", type=int, default=3, help="boots of each side (3)")
    ap.add_argument("--json", type=Path, help="where every run's numbers go")
    ap.add_argument("--timeout", type=int, default=1200, help="wall seconds per boot")
    ap.add_argument("--only", choices=["bare", "sidecore"], help="run one side only")
    a = ap.parse_args()
    if a.rounds < 1:
        raise SystemExit("bench-boot: --rounds must be at least 1")
    cfg = a.config.resolve()
    if not cfg.exists():
        raise SystemExit(f"bench-boot: {cfg} not found (make linux-guest)")
    guest, gc = guest_config(cfg, a.guest)
    cpus = int(gc.get("cpus", "1"), 0)
    memory = int(mib(gc.get("memory", "128M")))
    kernel = cfg.parent / gc["kernel"]
    initrd = cfg.parent / gc["initrd"] if gc.get("initrd") else None
    cmdline = gc.get("cmdline", "")
    if "sidecore.test=" in cmdline and not re.search(r"sidecore\.test=poweroff\b", cmdline):
        raise SystemExit(f"bench-boot: [guest {guest}] must power off (sidecore.test=poweroff)")
    if initrd is None:
        raise SystemExit(f"bench-boot: [guest {guest}] has no initrd")
    machine_cpus = 1 + cpus
    bare_cmdline = f"{cmdline} maxcpus={cpus}".strip()

    release = (cfg.parent / "kernel-release")
    what = release.read_text().strip() if release.exists() else kernel.name
    print(f"bench-boot: {what}, guest {guest} of {cfg.name}: {cpus} vCPU(s), {memory}M, "
          f"cmdline '{cmdline}'", flush=True)
    print(f"bench-boot: {a.emulator}, {machine_cpus} emulated CPUs on both sides (bare Linux "
          f"with maxcpus={cpus}), {a.rounds} round(s), sides alternating", flush=True)

    sides = [s for s in ("bare", "sidecore") if a.only != {"bare": "sidecore",
                                                          "sidecore": "bare"}[s]]
    iso = bare_iso = None
    runs = []
    for rnd in range(a.rounds):
        for s in order(sides, rnd):
            result = {"side": s, "round": rnd + 1, "emulator": a.emulator}
            name = f"bench-boot-{a.emulator}-{s}-r{rnd + 1}"
            start = time.monotonic()
            if s == "bare":
                def bare_run():
                    nonlocal bare_iso
                    if bare_iso is None:
                        out = build_dir() / "images" / "bench-bare"
                        out.mkdir(parents=True, exist_ok=True)
                        bare_iso = out / "bare.iso"
                        subprocess.run([str(REPO / "tools/linux-guest/mkbare-iso.sh"),
                                        str(bare_iso), str(kernel), str(initrd), bare_cmdline],
                                       check=True, stdout=subprocess.DEVNULL)
                    print(f"bench-boot: round {rnd + 1}: bare ({machine_cpus} CPUs, Linux "
                          f"maxcpus={cpus}, {memory}M)...", flush=True)
                    run_bare(name, a.emulator, bare_iso, machine_cpus, memory, a.timeout, result)
                attempt("bare", bare_run, result)
            else:
                def side_run():
                    nonlocal iso
                    if iso is None:
                        iso = image_for("bench", cfg)
                    print(f"bench-boot: round {rnd + 1}: Sidecore ({machine_cpus} CPUs, 512M)...",
                          flush=True)
                    run_sidecore(name, a.emulator, iso, guest, machine_cpus, a.timeout, result)
                attempt("sidecore", side_run, result)
            result["wall_s"] = time.monotonic() - start
            runs.append(result)
            got = f"{result['first_s']:.1f} s to userspace, uptime {result['uptime']:.2f}" \
                if "first_s" in result else f"failed: {result.get('error')}"
            print(f"bench-boot: round {rnd + 1} {s}: {got}", flush=True)

    settings = {"emulator": a.emulator, "config": str(cfg), "guest": guest, "vcpus": cpus,
                "machine_cpus": machine_cpus, "memory_mib": memory, "cmdline": cmdline,
                "bare_cmdline": bare_cmdline, "kernel": what, "rounds": a.rounds}
    path = write_json(a.json or default_json_path(build_dir(), f"bench-boot-{a.emulator}"),
                      "bench-boot", settings, runs)
    print()
    print_table(a.emulator, runs, a.rounds)
    print()
    for r in runs:
        if "log" in r:
            print(f"log ({r['side']}, round {r['round']}): {r['log']}")
    print(f"every run: {path}")
    return 0 if all("first_s" in r for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
