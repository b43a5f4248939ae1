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
Exit status 0 when every run reached userspace.

Both sides on one clock (issue 17): in Bochs the TSC advances with emulated time
at the rate of machine.py's ips (50 MHz), while CPUID says 3.5 GHz. Sidecore
measures the rate against the PIT and tells its guest (CPUID leaf 0x15); bare
Linux would believe CPUID, so its cmdline gets tsc_early_khz= with the same rate
(--bare-tsc-khz). Rows read from each side's console check it: the rate the
guest settled on, its clocksource, the local-timer interrupts across the
init's `sleep 1` (few: the kernel is tickless when idle) and that sleep on the
guest's clock. "Emulated Mticks to /init" is the kernel log's time at "Run
/init" times the guest's TSC rate: the TSC cycles from the kernel's early TSC
setup to /init, which in Bochs are instruction slots of emulated time whatever
rate the guest believes. "Emulated s, reset to Bochs's last event" is Bochs's
own tick count (bochs_end). --extra-cmdline adds words to both sides' kernel
command lines (e.g. quiet: without the kernel's messages, the console's share
shows)."""

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

# The TSC rate in kHz of machine.py's Bochs: its `ips=50000000` (Bochs's TSC
# counts emulated instruction slots). Sidecore's own PIT calibration prints it
# ("TSC: 50.000 MHz"); the table shows both so a mismatch is seen.
BOCHS_TSC_KHZ = 50000


def console_facts(text, prefix=""):
    """What a side's console says about the guest's clock and output: the TSC
    rate it settled on (MHz), its last clocksource, timer interrupts across the
    init's `sleep 1`, that sleep on its clock, and the characters the guest
    printed before userspace (prefix: Sidecore's "[guest] " before its lines)."""
    facts = {}
    p = re.escape(prefix)
    rates = re.findall(rf"^{p}.*tsc: Detected ([0-9.]+) MHz (TSC|processor)", text, re.M)
    if rates:
        tsc = [r for r, kind in rates if kind == "TSC"]
        facts["tsc_mhz"] = float(tsc[-1] if tsc else rates[-1][0])
    refined = re.findall(rf"^{p}.*Refined TSC clocksource calibration: ([0-9.]+) MHz", text, re.M)
    if refined:
        facts["tsc_mhz"] = float(refined[-1])
    cs = re.findall(rf"^{p}.*clocksource: Switched to clocksource (\S+)", text, re.M)
    if cs:
        facts["clocksource"] = cs[-1]
    irqs = [int(x) for x in re.findall(rf"^{p}LINUX-GUEST: timer_irqs=(\d+)", text, re.M)]
    if len(irqs) >= 2:
        facts["sleep1_irqs"] = irqs[1] - irqs[0]
    s1 = re.search(rf"^{p}LINUX-GUEST: sleep1_s=([0-9.]+)", text, re.M)
    if s1:
        facts["sleep1_s"] = float(s1[1])
    # The kernel log's clock (sched_clock: the TSC from its early setup on)
    # at the start of /init. The uptime /init prints can be seconds less (bare
    # in Bochs: 52.65 s against 59.58 s): timekeeping runs on the jiffies
    # clocksource until the TSC's is registered, and counts only the ticks
    # that arrived.
    run_init = re.search(rf"^{p}\[\s*([0-9.]+)\] Run /init as init process", text, re.M)
    if run_init:
        facts["run_init_s"] = float(run_init[1])
        if "tsc_mhz" in facts:
            facts["mticks"] = facts["run_init_s"] * facts["tsc_mhz"]
    first = re.search(rf"^{p}{FIRST_RE}", text, re.M)
    if first:
        lines = text[:first.start()].splitlines()
        if prefix:
            lines = [ln[len(prefix):] for ln in lines if ln.startswith(prefix)]
        facts["console_chars"] = sum(len(ln.rstrip("\r")) + 1 for ln in lines)
    hv = re.search(r"^(?:\[\s*[0-9.]+\] )?TSC: ([0-9.]+) MHz", text, re.M)
    if hv:
        facts["hv_tsc_mhz"] = float(hv[1])
    return facts


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


def bochs_end(log_path):
    """Bochs's own clock at the last event its log recorded: each line of
    bochs.log (appended to the console log when the machine closes) starts
    with the tick count, emulated instruction slots since reset. In these
    boots the last events are the guest kernel's shutdown (HPET leaving legacy
    mode or Bochs's power-off bare, IOAPIC accesses under Sidecore)."""
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return {}
    last = None
    for m in re.finditer(r"^(\d{11,})[a-z]\[([^\]]*)\] (.*)$", text, re.M):
        if last is None or int(m[1]) >= int(last[1]):
            last = m
    if not last or not int(last[1]):
        return {}
    return {"bochs_end_s": int(last[1]) / (BOCHS_TSC_KHZ * 1000),
            "bochs_end_event": f"[{last[2].strip()}] {last[3].strip()}"}


def exits(stats_text, guest, keys=("exit_",)):
    """exit_* counts (or other fields starting with keys) of the guest, summed
    over its vCPUs."""
    total = {}
    for (g, _), fields in parse_stats(stats_text).items():
        if g == guest:
            for k, v in fields.items():
                if k.startswith(keys) and isinstance(v, int):
                    total[k] = total.get(k, 0) + v
    return total


def run_bare(name, emu, iso, cpus, memory, timeout, result):
    m = Machine(name, smp=cpus, memory=memory, image=iso, timeout=timeout, **EMULATORS[emu])
    result["log"] = str(m.log_path)
    try:
        run_bare_in(m, timeout, result)
    finally:
        if emu == "bochs":
            result.update(bochs_end(m.log_path))


def run_bare_in(m, timeout, result):
    with m:
        try:
            first = m.expect(FIRST_RE, timeout, what="the first LINUX-GUEST line")
            result["first_s"] = time.monotonic() - m._started_at
            result["uptime"] = float(first["up"])
            # As long as a boot may take: on a loaded machine Bochs runs at a
            # fraction of a core, and 120 s did not reach the power-off here.
            m.expect(r"LINUX-GUEST: action=", timeout, what="the action line")
            m.expect(r"reboot: Power down", timeout, what="'reboot: Power down'")
            result["off_s"] = time.monotonic() - m._started_at
        finally:
            result.update(console_facts(m.log))


def fresh_command(m, text):
    """Runs a shell command when the last prompt has scrolled away under guest
    output: Enter first brings a new one."""
    m.send_line("")
    m.wait_prompt(120)
    return m.command(text, timeout=120)


def run_sidecore(name, emu, iso, guest, cpus, timeout, result):
    m = Machine(name, smp=cpus, memory=512, image=iso, timeout=timeout, **EMULATORS[emu])
    result["log"] = str(m.log_path)
    try:
        run_sidecore_in(m, guest, timeout, result)
    finally:
        if emu == "bochs":
            result.update(bochs_end(m.log_path))


def run_sidecore_in(m, guest, timeout, result):
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
        st = fresh_command(m, "stats")
        result["exits_boot"] = exits(st, guest)
        result.update({f"{k}_boot": v for k, v in exits(st, guest, ("guest_us", "hv_us")).items()})
        m.expect(rf"^sidecore: guest {g} stopped: .*\n", timeout, what=f"'guest {guest} stopped'")
        result["off_s"] = time.monotonic() - m._started_at
        st = fresh_command(m, "stats")
        result["exits_all"] = exits(st, guest)
        result.update({f"{k}_all": v for k, v in exits(st, guest, ("guest_us", "hv_us")).items()})
        result.update(console_facts(m.log, f"[{guest}] "))


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
    ("kernel log time at 'Run /init' (s)", "run_init_s", "{:.2f}"),
    ("emulated Mticks to /init (that x TSC MHz)", "mticks", "{:.0f}"),
    ("wall s to the guest's power-off", "off_s", "{:.1f}"),
    ("emulated s, reset to Bochs's last event", "bochs_end_s", "{:.2f}"),
    ("wall s to 'sidecore: ready'", "ready_s", "{:.1f}"),
    ("guest's TSC rate (MHz, its console)", "tsc_mhz", "{:.3f}"),
    ("Sidecore's TSC rate (MHz, PIT-calibrated)", "hv_tsc_mhz", "{:.3f}"),
    ("timer irqs across the guest's `sleep 1`", "sleep1_irqs", "{:.0f}"),
    ("that sleep on the guest's clock (s)", "sleep1_s", "{:.2f}"),
    ("console characters before userspace", "console_chars", "{:.0f}"),
    ("vCPU s in the guest to userspace (stats)", "guest_us_boot", "{:.2f}"),
    ("vCPU s in the hypervisor to userspace", "hv_us_boot", "{:.2f}"),
]
# Rows compared as a Sidecore/bare ratio.
RATIO_KEYS = ("first_s", "uptime", "run_init_s", "mticks", "off_s", "bochs_end_s")


def print_table(emu, runs, rounds):
    bare = [r for r in runs if r["side"] == "bare"]
    side = [r for r in runs if r["side"] == "sidecore"]
    print(f"{'':42} {'bare':>22} {'Sidecore':>22}  Sidecore/bare (median; spreads)")
    for label, key, fmt in ROWS:
        if key == "mticks" and emu != "bochs":
            continue  # QEMU's TSC follows the host's clock: no emulated ticks
        scale = 1e-6 if key.endswith("_us_boot") else 1
        b = summary([r[key] * scale if key in r else None for r in bare])
        s = summary([r[key] * scale if key in r else None for r in side])
        if b is None and s is None:
            continue
        v = ratio_verdict(s, b, "slower", "faster") if key in RATIO_KEYS else ""
        print(f"{label:42} {cell(b, fmt):>22} {cell(s, fmt):>22}  {v}")
    clocks = sorted({f"{r['side']}: {r['clocksource']}" for r in runs if "clocksource" in r})
    print(f"(median [lowest-highest] of {rounds} round(s); {emu}; runs that stopped with an "
          f"error: {sum(1 for r in runs if 'error' in r)}, their figures up to it kept; "
          f"clocksource {', '.join(clocks) or 'not seen'})")
    for r in runs:
        if "bochs_end_event" in r:
            print(f"  Bochs's last event, {r['side']} round {r['round']}: {r['bochs_end_event']}")
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
    ap.add_argument("--extra-cmdline", default="",
                    help="words added to both sides' kernel command lines (e.g. quiet)")
    ap.add_argument("--bare-tsc-khz", type=int,
                    help="bare Linux's tsc_early_khz= (default: Bochs's "
                         f"{BOCHS_TSC_KHZ}, none under svm; 0: none)")
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
    cmdline = f"{gc.get('cmdline', '')} {a.extra_cmdline}".strip()
    if "sidecore.test=" in cmdline and not re.search(r"sidecore\.test=poweroff\b", cmdline):
        raise SystemExit(f"bench-boot: [guest {guest}] must power off (sidecore.test=poweroff)")
    if initrd is None:
        raise SystemExit(f"bench-boot: [guest {guest}] has no initrd")
    machine_cpus = 1 + cpus
    bare_cmdline = f"{cmdline} maxcpus={cpus}".strip()
    tsc_khz = a.bare_tsc_khz if a.bare_tsc_khz is not None else \
        (BOCHS_TSC_KHZ if a.emulator == "bochs" else 0)
    if tsc_khz:
        bare_cmdline += f" tsc_early_khz={tsc_khz}"
    if a.extra_cmdline:
        # Sidecore boots a copy of the config, beside it (it names its files
        # relative to itself), with the extra words in the guest's cmdline.
        text, seen = [], None
        for line in cfg.read_text().splitlines():
            m = re.match(r"\s*\[guest\s+([^\]]+)\]", line)
            if m or line.lstrip().startswith("["):
                seen = m[1].strip() if m else None
            if seen == guest and re.match(r"\s*cmdline\s*=", line):
                line = f"cmdline = {cmdline}"
            text.append(line)
        cfg = cfg.parent / f"bench-boot-extra-{cfg.name}"
        cfg.write_text("\n".join(text) + "\n")

    release = (cfg.parent / "kernel-release")
    what = release.read_text().strip() if release.exists() else kernel.name
    print(f"bench-boot: {what}, guest {guest} of {cfg.name}: {cpus} vCPU(s), {memory}M, "
          f"cmdline '{cmdline}'", flush=True)
    print(f"bench-boot: {a.emulator}, {machine_cpus} emulated CPUs on both sides (bare Linux "
          f"with maxcpus={cpus}), {a.rounds} round(s), sides alternating; bare cmdline "
          f"'{bare_cmdline}'", flush=True)

    sides = [s for s in ("bare", "sidecore") if a.only != {"bare": "sidecore",
                                                          "sidecore": "bare"}[s]]
    iso = bare_iso = None
    runs = []
    for rnd in range(a.rounds):
        for s in order(sides, rnd):
            result = {"side": s, "round": rnd + 1, "emulator": a.emulator}
            tag = re.sub(r"[^A-Za-z0-9]+", "-", a.extra_cmdline).strip("-")
            name = f"bench-boot-{a.emulator}{'-' + tag if tag else ''}-{s}-r{rnd + 1}"
            start = time.monotonic()
            if s == "bare":
                def bare_run():
                    nonlocal bare_iso
                    if bare_iso is None:
                        out = build_dir() / "images" / "bench-bare"
                        out.mkdir(parents=True, exist_ok=True)
                        bare_iso = out / "bare.iso"  # rebuilt for each invocation
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
                "bare_cmdline": bare_cmdline, "kernel": what, "rounds": a.rounds,
                "bare_tsc_khz": tsc_khz}
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
