#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Boot-time benchmark of a Linux guest (`make bench-boot`, tools/bench-boot.sh).

Boots the kernel and initramfs of one guest of a config (default: linux0 of
BUILD/linux/one-vcpu.cfg) twice in Bochs, one after the other:
  bare      a GRUB ISO (tools/linux-guest/mkbare-iso.sh) with the guest's cmdline,
            as many CPUs as the guest has vCPUs and its memory;
  Sidecore  the config's image, with the boot CPU plus one CPU per vCPU;
and prints side by side: wall seconds from the emulator's start to the guest's
first LINUX-GUEST line (userspace) and to its power-off, the guest's own uptime at
that line (emulated time, from /proc/uptime), and, under Sidecore, the guest's
exits by reason from `stats` (summed over its vCPUs), read at the first
LINUX-GUEST line and again after the power-off. Exit status 0 when both runs
reached userspace."""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "system"))

from machine import Machine, MachineError, build_dir  # noqa: E402
from scenarios import image_for, parse_stats  # noqa: E402

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


def run_bare(iso, cpus, memory, timeout, result):
    m = Machine("bench-bare", emulator="bochs", smp=cpus, memory=memory, image=iso,
                timeout=timeout)
    with m:
        first = m.expect(FIRST_RE, timeout, what="the first LINUX-GUEST line")
        result["first_s"] = time.monotonic() - m._started_at
        result["uptime"] = float(first["up"])
        m.expect(r"LINUX-GUEST: action=", 300, what="the action line")
        m.expect(r"reboot: Power down", 120, what="'reboot: Power down'")
        result["off_s"] = time.monotonic() - m._started_at
    result["log"] = m.log_path


def fresh_command(m, text):
    """Runs a shell command when the last prompt has scrolled away under guest
    output: Enter first brings a new one."""
    m.send_line("")
    m.wait_prompt(120)
    return m.command(text, timeout=120)


def run_sidecore(iso, guest, cpus, timeout, result):
    m = Machine("bench-sidecore", emulator="bochs", smp=1 + cpus, memory=512, image=iso,
                timeout=timeout)
    result["log"] = m.log_path
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
        m.expect(rf"^sidecore: guest {g} stopped: .*\n", 300, what=f"'guest {guest} stopped'")
        result["off_s"] = time.monotonic() - m._started_at
        result["exits_all"] = exits(fresh_command(m, "stats"), guest)


def attempt(name, fn, result):
    try:
        fn()
    except (MachineError, subprocess.CalledProcessError, OSError) as e:
        result["error"] = str(e).splitlines()[0]
        print(f"bench-boot: {name}: {result['error']}", file=sys.stderr)
        print(f"bench-boot: {name}: log {result.get('log', '(none)')}", file=sys.stderr)


def cell(result, key, fmt):
    if key in result:
        return fmt.format(result[key])
    return "failed" if "error" in result else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=build_dir() / "linux" / "one-vcpu.cfg")
    ap.add_argument("--guest", help="guest section to boot (default: the first)")
    ap.add_argument("--timeout", type=int, default=1200, help="wall seconds per boot")
    ap.add_argument("--only", choices=["bare", "sidecore"], help="run one side only")
    a = ap.parse_args()
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

    release = (cfg.parent / "kernel-release")
    what = release.read_text().strip() if release.exists() else kernel.name
    print(f"bench-boot: {what}, guest {guest} of {cfg.name}: {cpus} vCPU(s), {memory}M, "
          f"cmdline '{cmdline}'", flush=True)

    bare, side = {}, {}
    if a.only != "sidecore":
        out = build_dir() / "images" / "bench-bare"
        out.mkdir(parents=True, exist_ok=True)
        iso = out / "bare.iso"

        def bare_run():
            subprocess.run([str(REPO / "tools/linux-guest/mkbare-iso.sh"), str(iso), str(kernel),
                            str(initrd), cmdline], check=True, stdout=subprocess.DEVNULL)
            print(f"bench-boot: bare Bochs ({cpus} CPU(s), {memory}M)...", flush=True)
            run_bare(iso, cpus, memory, a.timeout, bare)
        attempt("bare", bare_run, bare)
    if a.only != "bare":
        print(f"bench-boot: Sidecore in Bochs ({1 + cpus} CPUs, 512M)...", flush=True)
        attempt("sidecore", lambda: run_sidecore(image_for("bench", cfg), guest, cpus,
                                                 a.timeout, side), side)

    rows = [
        ("wall s to the first LINUX-GUEST line", "first_s", "{:.1f}"),
        ("guest uptime at that line (emulated s)", "uptime", "{:.2f}"),
        ("wall s to the guest's power-off", "off_s", "{:.1f}"),
        ("wall s to 'sidecore: ready'", "ready_s", "{:.1f}"),
    ]
    print()
    print(f"{'':42} {'bare Bochs':>12} {'Sidecore':>12}")
    for label, key, fmt in rows:
        print(f"{label:42} {cell(bare, key, fmt):>12} {cell(side, key, fmt):>12}")
    print()
    boot, whole = side.get("exits_boot", {}), side.get("exits_all", {})
    if boot or whole:
        print(f"exits of {guest} under Sidecore, all vCPUs   {'to userspace':>12} {'whole run':>12}")
        for k in sorted(set(boot) | set(whole), key=lambda k: -whole.get(k, boot.get(k, 0))):
            print(f"  {k:40} {boot.get(k, '-'):>12} {whole.get(k, '-'):>12}")
        print(f"  {'total':40} {sum(boot.values()):>12} "
              f"{sum(whole.values()) if whole else '-':>12}")
    else:
        print(f"exits of {guest} under Sidecore: none read ({side.get('error', 'not run')})")
    for name, r in (("bare", bare), ("sidecore", side)):
        if "log" in r:
            print(f"log ({name}): {r['log']}")
    ok = all("first_s" in r for r, skip in ((bare, "sidecore"), (side, "bare")) if a.only != skip)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
