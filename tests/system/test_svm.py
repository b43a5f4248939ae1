# SPDX-License-Identifier: MIT
"""AMD-V (SVM) partitions under QEMU's TCG, which emulates SVM with nested paging
(no NRIP save, no decode assists, no AVIC): the guest-tests scenarios that run
under VT-x in Bochs (test_guests.py) run here through vmm/svm/. 4 CPUs: the boot
CPU keeps the console, so a scenario runs up to 3 guests, each on its own core."""

import os
import re
import shutil
import tempfile
import time

import pytest

from scenarios import (assert_guest_passed, guest_lines, guest_rows, guest_test_image, wait_for_all,
                       parse_stats)

SVM_CPU = ["-cpu", "EPYC,+svm,+npt"]
QEMU_SVM = dict(emulator="qemu", accel="tcg", smp=4, memory=512, timeout=300,
                extra_args=SVM_CPU)


def stopped(guest):
    return f"sidecore: guest {guest} stopped:"


def wait_for_stop_line(m, guest, timeout=240):
    """Waits for guest's whole stop line (the exit report is read from its end;
    the line's start alone may arrive first)."""
    wait_for_all(m, [stopped(guest)], timeout=timeout)
    line = re.compile(rf"sidecore: guest {guest} stopped: [^\n]*\n")
    deadline = time.time() + 30
    while not line.search(m.log) and time.time() < deadline:
        time.sleep(0.2)


# What TCG's CPU itself does differently from hardware (not the hypervisor's doing):
# the guest's own WRMSR to IA32_KERNEL_GS_BASE (a pass-through MSR) takes any value.
# And the guest's TSC follows the host's clock, so a vCPU thread the host deschedules
# (4 emulated CPUs on a loaded 2-core machine) shows gaps a dedicated core never has.
TCG_GAPS = {"msr": ["FAIL msr: non-canonical IA32_KERNEL_GS_BASE write raises #GP"],
            "pair-a": ["FAIL counter: never lost the CPU for 10 ms"],
            "pair-b": ["FAIL counter: never lost the CPU for 10 ms"]}


def assert_passed_but_tcg_gaps(log, guest):
    """assert_guest_passed, except for the FAIL lines TCG_GAPS names for guest."""
    gaps = TCG_GAPS.get(guest, [])
    lines = guest_lines(log, guest)
    fails = [l for l in lines if l.startswith("FAIL")]
    unexplained = [l for l in fails if not any(l.startswith(g) for g in gaps)]
    assert not unexplained, f"{guest} failed: {unexplained}"
    if not fails:
        assert_guest_passed(log, guest)
        return
    result = [l for l in lines if l.startswith("RESULT")][-1]
    m = re.match(r"RESULT (\d+) passed, (\d+) failed", result)
    assert m and int(m[1]) > 0 and int(m[2]) == len(fails), result


def rip_of(stats):
    rip = stats["rip"]
    return int(rip, 16) if isinstance(rip, str) else rip


def test_svm_basic_guests_cpuid_msr_portio(machine):
    m = machine(image=guest_test_image("basic"), **QEMU_SVM)
    guests = ["cpuid", "msr", "portio"]
    wait_for_all(m, [stopped(g) for g in guests] + ["sidecore: ready"])
    for g in guests:
        assert_passed_but_tcg_gaps(m.log, g)
    for feature in ("nested paging", "NRIP save", "decode assists", "AVIC"):
        assert re.search(rf"AMD-V: {feature}\s+(yes|no)", m.log), f"no AMD-V line for {feature}"
    assert re.search(r"AMD-V: nested paging\s+yes", m.log)
    portio = guest_lines(m.log, "portio")
    assert "portio: this line went out through port 0x3F8" in portio
    assert "portio: this line went out through HC_PRINT" in portio

    stats = parse_stats(m.command("stats", timeout=60))
    assert stats[("cpuid", 0)]["exit_cpuid"] > 0
    assert stats[("msr", 0)]["exit_msr"] > 0
    assert stats[("portio", 0)]["exit_io"] > 0 and stats[("portio", 0)]["exit_vmmcall"] > 0
    for key, s in stats.items():
        assert s["exits"] == sum(v for k, v in s.items() if k.startswith("exit_")), (key, s)

    rows = guest_rows(m.command("guests", timeout=60))
    cores = {g: rows[g][2] for g in guests}
    assert len(set(cores.values())) == 3 and "0" not in cores.values(), cores


def test_svm_traps_hlt_and_exceptions(machine):
    m = machine(image=guest_test_image("traps"), **QEMU_SVM)
    guests = ["exceptions", "exceptions32", "hlt"]
    wait_for_all(m, [stopped(g) for g in guests])
    for g in guests:
        assert_guest_passed(m.log, g)
    s = parse_stats(m.command("stats", timeout=60))[("hlt", 0)]
    assert s["exit_hlt"] > 0 and s["exit_vmmcall"] > 0, s
    assert s["injected"] > 0, s
    assert rip_of(s) != 0, s


def test_svm_isolation_stops_only_the_offender(machine):
    m = machine(image=guest_test_image("isolation"), **QEMU_SVM)
    wait_for_all(m, [stopped("isolation"), stopped("isolation-hv"), stopped("neighbour")])
    # No guest-linear address with nested page faults: the report shows 0.
    for guest, gpa in (("isolation", "0x1000000"), ("isolation-hv", "0x1010000")):
        assert re.search(rf"guest {guest} stopped: vCPU 0: write outside its memory at "
                         rf"guest-physical {gpa} \(linear 0\), RIP 0x[0-9a-f]+", m.log), guest
        assert not any(l.startswith("RESULT") for l in guest_lines(m.log, guest))
    assert_guest_passed(m.log, "neighbour")
    stats = parse_stats(m.command("stats", timeout=60))
    assert stats[("isolation", 0)]["exit_npf"] == 1
    m.command("guest restart isolation", timeout=60)
    deadline = time.time() + 60
    while m.log.count(stopped("isolation")) < 2 and time.time() < deadline:
        time.sleep(0.5)
    assert m.log.count(stopped("isolation")) == 2


def test_svm_pair_runs_on_two_cores_at_once(machine):
    m = machine(image=guest_test_image("pair"), **QEMU_SVM)
    # `stats` kicks each running vCPU so its next exit records the RIP; the
    # second `stats` shows what the first one asked for.
    wait_for_all(m, ["[pair-a] counter: 1\n", "[pair-b] counter: 1\n"], timeout=120)
    m.command("stats", timeout=60)
    wait_for_all(m, ["[pair-a] counter: 4\n", "[pair-b] counter: 4\n"], timeout=120)
    stats = parse_stats(m.command("stats", timeout=60))
    for g in ("pair-a", "pair-b"):
        s = stats[(g, 0)]
        assert s["state"] == "running" and rip_of(s) != 0, s
    wait_for_all(m, [stopped("pair-a"), stopped("pair-b")])
    assert_passed_but_tcg_gaps(m.log, "pair-a")
    assert_passed_but_tcg_gaps(m.log, "pair-b")
    lines = m.log.splitlines()
    first_b = lines.index("[pair-b] counter: 1")
    last_a = lines.index("[pair-a] counter: 20")
    first_a = lines.index("[pair-a] counter: 1")
    last_b = lines.index("[pair-b] counter: 20")
    assert first_b < last_a and first_a < last_b, "the two guests did not run at the same time"


def test_svm_triple_fault_is_contained_and_xsetbv_works(machine):
    m = machine(image=guest_test_image("faults"), **QEMU_SVM)
    wait_for_all(m, [stopped("triplefault"), stopped("xsetbv"), stopped("cpuid")])
    assert re.search(r"guest triplefault stopped: vCPU 0: triple fault, RIP 0x[0-9a-f]+", m.log)
    assert not any(l.startswith(("FAIL", "RESULT")) for l in guest_lines(m.log, "triplefault"))
    assert_guest_passed(m.log, "xsetbv")
    assert_guest_passed(m.log, "cpuid")
    stats = parse_stats(m.command("stats", timeout=60))
    assert stats[("triplefault", 0)]["exit_shutdown"] == 1
    if "nothing to test" not in m.log:
        assert stats[("xsetbv", 0)]["exit_xsetbv"] >= 4


# ----- stock Linux guests (guest-tests/linux/*.cfg) under SVM --------------------------------

# Wall seconds to userspace under QEMU TCG with SVM: about 20 s on an idle 2-core
# machine, much more while other emulators share it.
LINUX_BOOT_S = 400


def start_linux(machine, scenario, stops, panics=(), extra_args=()):
    """Boots BUILD/linux/SCENARIO.cfg under Sidecore in QEMU/SVM with the boot CPU
    plus one CPU per guest core (extra_args: more QEMU arguments); returns
    test_linux's watcher."""
    from test_linux import LinuxRun, linux_dir
    from scenarios import image_for

    cfg = linux_dir() / f"{scenario}.cfg"
    cores = sum(int(n) for n in re.findall(r"^\s*cpus\s*=\s*(\d+)", cfg.read_text(), re.M))
    m = machine(image=image_for(f"linux-{scenario}", cfg), emulator="qemu", accel="tcg",
                smp=1 + cores, memory=1024, timeout=2 * LINUX_BOOT_S + 120,
                extra_args=SVM_CPU + list(extra_args))
    return LinuxRun(m, cfg, stops, panics, silence_s=LINUX_BOOT_S)


def test_svm_linux_one_vcpu_boots_and_powers_off(machine):
    """Debian's stock kernel on 1 vCPU reaches userspace under SVM (its TSC rate
    from tsc_early_khz=, its timer ticking), powers off, and is reported so."""
    from test_linux import power_off_checks

    run = start_linux(machine, "one-vcpu", {"linux0": r"power-off"})
    power_off_checks(run, "linux0", 1, LINUX_BOOT_S)
    assert re.search(r"^\[linux0\] .*tsc: Detected \d+\.\d+ MHz processor", run.m.log, re.M)
    stats = parse_stats(run.m.command("stats", timeout=60))[("linux0", 0)]
    assert stats["exit_npf"] > 0 and stats["exit_msr"] > 0 and stats["injected"] > 0, stats


def test_svm_linux_two_vcpus_boots_and_powers_off(machine):
    """2 vCPUs: the guest starts its second vCPU itself (INIT/SIPI through the
    software local APIC) on a second core: nproc=2."""
    from test_linux import power_off_checks

    run = start_linux(machine, "two-vcpus", {"linux0": r"power-off"})
    power_off_checks(run, "linux0", 2, LINUX_BOOT_S)


def test_svm_linux_reboot_restarts_the_guest(machine):
    """reboot -f restarts the guest from its image; it boots again (new boot_id)."""
    run = start_linux(machine, "reboot", {"linux0": r"reboot"})
    first = run.report("linux0", LINUX_BOOT_S)
    run.check_report("linux0", first, 1)
    run.wait(r"^sidecore: guest linux0 restarted\n", 180, "'sidecore: guest linux0 restarted'")
    second = run.report("linux0", LINUX_BOOT_S, boot=2)
    run.check_report("linux0", second, 1)
    assert second["boot_id"] != first["boot_id"], "the kernel did not boot again"


# ----- virtio-blk through the sidecore and in trap mode (guest-tests virtio scenarios) ---------

TOTALS_RE = re.compile(r"^vblk: totals (.*)$")
IRQS_OFF_RE = re.compile(r"^vblk: interrupts while off: (\d+), after STI: (\d+)$")


def run_virtio_breakage(machine, scenario, io):
    """test_virtio's breakage scenario under SVM, without its timing expectations:
    under TCG the guests' TSC is the host's clock, so on a loaded machine disk-good
    need not reach its first progress line before disk-bad breaks its disk. The
    rest holds: disk-bad breaks its disk and recovers after its reset, disk-good's
    verified cycles all pass, and `stats` agrees with what the guests counted."""
    from scenarios import disk_stats, fields, fresh_command, last_guest_match

    m = machine(image=guest_test_image(scenario), **QEMU_SVM)
    m.expect(r"\[disk-bad\] vblk: device status (0x[0-9a-f]+) \(DEVICE_NEEDS_RESET\)", timeout=300)
    wait_for_all(m, ["sidecore: guest disk-good stopped:", "sidecore: guest disk-bad stopped:"],
                 timeout=300)
    log = m.log
    broken = re.search(r"sidecore: guest disk-bad: disk \d+ broken: ([^;\n]+);", log)
    assert broken and "loops" in broken[1], broken
    assert not re.search(r"sidecore: guest disk-good: disk \d+ broken", log)
    assert_guest_passed(log, "disk-good")
    assert_guest_passed(log, "disk-bad")
    assert "vblk: recovered after reset" in log
    disks, queues, _ = disk_stats(fresh_command(m, "stats"))
    for g in ("disk-good", "disk-bad"):
        d = disks[g]
        assert d["io"] == io and d["queues"] == 1 and d["state"] == "ok" and d["msi"] > 0, d
    good = fields(last_guest_match(log, "disk-good", TOTALS_RE, "totals")[1])
    q = queues[("disk-good", 0)]
    assert q["requests"] == good["requests"] > 0 and q["errors"] == 0, (q, good)
    assert q["reads"] == good["reads"] and q["writes"] == good["writes"], (q, good)
    # Software APIC (no AVIC): completions wait for the guest's STI.
    irqs = last_guest_match(log, "disk-good", IRQS_OFF_RE, "interrupts-off")
    assert int(irqs[1]) == 0 and int(irqs[2]) > 0, irqs[0]
    assert "guest disk-good: local APIC emulated" in log
    return m, disks, good


def test_svm_virtio_sidecore_breakage_is_contained(machine):
    m, disks, good = run_virtio_breakage(machine, "virtio", "sidecore")
    for g in ("disk-good", "disk-bad"):
        assert disks[g]["notify_exits"] == 0, disks[g]  # the notify page never exits
    assert re.search(r"sidecore 0: CPU \d+", m.log), "no I/O sidecore was started"


def test_svm_virtio_trap_breakage_is_contained(machine):
    m, disks, good = run_virtio_breakage(machine, "virtio-trap", "trap")
    d = disks["disk-good"]
    assert good["notifies"] > 0 and d["notify_exits"] == good["notifies"], (d, good)


# ----- stock Linux on a virtio-blk disk through the sidecore -----------------------------------

def linux_disk_checks(run, guest, pattern_md5, disk_mb):
    """What the guest's /init reports for its disk test (tools/linux-guest/init)."""
    from scenarios import fields

    r = run.report(guest, LINUX_BOOT_S)
    assert r["nproc"] == 2, r
    disk = fields(run.wait(rf"^\[{guest}\] LINUX-GUEST: disk=.*\n", 300, "disk= line")[0])
    assert disk.get("disk") == "vda" and disk["sectors"] == disk_mb * 2048, disk
    assert disk["queues"] == 2, disk

    def field(key):
        return run.wait(rf"^\[{guest}\] LINUX-GUEST: [^\n]*\b{key}=(\S+)[^\n]*\n", 300, key)[1]

    assert field("disk_pattern_md5") == pattern_md5, "the pattern read back wrong"
    written, back = field("disk_written"), field("disk_read")
    assert written == back and len(written.split(",")) == 2, (written, back)
    assert field("disk_verify") == "ok"
    run.wait(rf"^sidecore: guest {guest} stopped: power-off.*$", 300, "power-off")


def test_svm_linux_disk_served_by_the_sidecore(machine):
    """guest-tests/linux/disk-sc.cfg under SVM: Linux's own virtio_blk on a RAM disk
    served by the polling sidecore (2 vCPUs, 2 queues): the pattern reads back, both
    vCPUs' writes read back, no notification exit."""
    from scenarios import disk_stats, fresh_command, image_for, write_linux_disk
    from test_linux import LinuxRun, linux_dir

    md5 = write_linux_disk(linux_dir() / "disk-sc.img", 16, 4)
    cfg = linux_dir() / "disk-sc.cfg"
    m = machine(image=image_for("linux-disk-sc", cfg), **dict(QEMU_SVM, memory=1024,
                                                               timeout=2 * LINUX_BOOT_S + 300))
    run = LinuxRun(m, cfg, {"disk-sc": r"power-off"}, silence_s=LINUX_BOOT_S)
    linux_disk_checks(run, "disk-sc", md5, 16)
    disks, queues, cores = disk_stats(fresh_command(m, "stats"))
    d = disks["disk-sc"]
    assert d["io"] == "sidecore" and d["state"] == "ok" and d["notify_exits"] == 0, d
    for q in (0, 1):
        assert queues[("disk-sc", q)]["writes"] > 0 and queues[("disk-sc", q)]["errors"] == 0


# ----- the whole chain: Linux guest -> virtio-blk -> sidecore -> Sidecore's NVMe driver -> QEMU NVMe

MIB = 2**20


def test_svm_linux_disk_on_an_nvme_window(machine, tmp_path):
    """disk = nvme:0:1:8M+16M: the guest's virtio disk is a 16 MiB window of a 64 MiB
    QEMU NVMe namespace, served by the sidecore through Sidecore's NVMe driver. The
    guest reads the pattern the test put at the window's start and writes 1 MiB of
    random data from each vCPU; afterwards the image file on the host holds the
    pattern and both MiBs at the right offsets, and every byte outside the window
    (and inside it, where the guest did not write) is as the test left it."""
    import hashlib
    import shutil

    from scenarios import disk_stats, fresh_command, image_for
    from test_linux import LinuxRun, linux_dir

    start, length, pattern_mb = 8 * MIB, 16 * MIB, 4
    pattern = b"".join(hashlib.sha256(i.to_bytes(8, "little")).digest()
                       for i in range(pattern_mb * MIB // 32))
    # Outside the pattern every 512-byte sector names itself, so a stray write shows.
    filler = bytearray(b"".join((b"svm-nvme sector %08d " % s).ljust(32, b".") * 16
                                for s in range(64 * MIB // 512)))
    assert len(filler) == 64 * MIB
    image = bytearray(filler)
    image[start:start + len(pattern)] = pattern
    img = tmp_path / "ns.img"
    img.write_bytes(image)

    cfg = linux_dir() / "svm-nvme.cfg"
    text = (linux_dir() / "disk-sc.cfg").read_text()
    text = re.sub(r"^\[guest disk-sc\]", "[guest nvme-sc]", text, flags=re.M)
    text = re.sub(r"^disk = .*$", f"disk = nvme:0:1:{start // MIB}M+{length // MIB}M", text,
                  flags=re.M)
    cfg.write_text(text)
    nvme = ["-drive", f"if=none,id=d0,format=raw,file={img}",
            "-device", "nvme,id=c0,serial=svm-nvme", "-device", "nvme-ns,drive=d0,bus=c0,nsid=1"]
    m = machine(image=image_for("linux-svm-nvme", cfg),
                **dict(QEMU_SVM, memory=1024, timeout=2 * LINUX_BOOT_S + 300,
                       extra_args=SVM_CPU + nvme))
    run = LinuxRun(m, cfg, {"nvme-sc": r"power-off"}, silence_s=LINUX_BOOT_S)
    linux_disk_checks(run, "nvme-sc", hashlib.md5(pattern).hexdigest(), length // MIB)
    written = run.wait(r"^\[nvme-sc\] LINUX-GUEST: [^\n]*\bdisk_written=(\S+)", 60,
                       "disk_written")[1].split(",")
    disks, queues, _ = disk_stats(fresh_command(m, "stats"))
    d = disks["nvme-sc"]
    assert d["io"] == "sidecore" and d["state"] == "ok", d
    assert d["backend"].startswith("nvme:0:1:"), d
    m.close()  # QEMU flushes and lets go of the image

    after = img.read_bytes()
    assert len(after) == 64 * MIB, len(after)

    def same(a, b):  # a plain bool: no 64 MiB diff in the report
        return a == b

    assert same(after[:start], bytes(filler[:start])), "bytes before the window changed"
    assert same(after[start + length:], bytes(filler[start + length:])), \
        "bytes after the window changed"
    win = after[start:start + length]
    assert same(win[:len(pattern)], pattern), "the pattern in the window changed"
    for cpu, md5 in enumerate(written):
        off = pattern_mb * MIB + cpu * MIB
        assert hashlib.md5(win[off:off + MIB]).hexdigest() == md5, f"vCPU {cpu}'s MiB is not there"
    rest = pattern_mb * MIB + len(written) * MIB
    assert same(win[rest:], bytes(filler[start + rest:start + length])), \
        "unwritten window bytes changed"
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_svm_nmi_between_vcpus(machine):
    """NMIs by ICR between two vCPUs under SVM: EVENTINJ type NMI, the NMI
    blocking kept by Sidecore and ended at the handler's IRET (intercepted)."""
    m = machine(image=guest_test_image("nmi"), **QEMU_SVM)
    wait_for_stop_line(m, "nmi")
    assert_passed_but_tcg_gaps(m.log, "nmi")
    assert "[nmi] PASS nmi: the held NMI arrives after the handler's IRET" in m.log
    s = parse_stats(m.command("stats", timeout=60))[("nmi", 1)]
    assert s["injected"] == 3 and s["exit_iret"] == 3, s


def test_svm_apic_both_modes(machine):
    """The local APIC from reset (xAPIC at 0xFEE00000) under SVM, all in the
    software model: timer, TPR, EOI, IPIs both ways in xAPIC and x2APIC mode,
    the base moved and back, INIT/SIPI through the page, the IA32_APIC_BASE
    transitions (guest-tests/guests/apic.c)."""
    m = machine(image=guest_test_image("apic"), **QEMU_SVM)
    wait_for_stop_line(m, "apic")
    assert_passed_but_tcg_gaps(m.log, "apic")
    for line in ("apic: xapic: fixed IPI to vCPU 1 (logical 0x2)",
                 "apic: x2apic: fixed IPI to vCPU 1 (logical 0x2)",
                 "apic: mixed: x2APIC vCPU 1 -> xAPIC vCPU 0"):
        assert f"[apic] PASS {line}" in m.log, line
    s = parse_stats(m.command("stats", timeout=60))[("apic", 0)]
    assert s["exit_npf"] > 0 and s["exit_msr"] > 0, s  # the xAPIC page, the x2APIC MSRs


def test_svm_linux_xapic_mode_two_vcpus(machine):
    """Linux told to keep the xAPIC (nox2apic) with 2 vCPUs: it never leaves
    the xAPIC mode of reset, runs its timer, TPR, EOIs and IPIs through the
    register page at 0xFEE00000 (MMIO exits), brings up vCPU 1 and powers off.
    Meanwhile QMP stop/cont kicks QEMU's vCPU threads every 2 ms and QEMU logs
    every interrupt it delivers: none may reach a CPU with RFLAGS.IF clear
    (issue 18: an interrupt injected through EVENTINJ was delivered again after
    such a kick, and Linux overflowed its entry stack)."""
    from test_linux import power_off_checks

    from qemu_kicks import VcpuKicker, interrupts_with_if_clear

    work = tempfile.mkdtemp(prefix="sidecore-kicks-")  # short: a socket path
    try:
        qmp, int_log = f"{work}/qmp.sock", f"{work}/int.log"
        run = start_linux(machine, "xapic", {"linux0": r"power-off"},
                          extra_args=["-qmp", f"unix:{qmp},server=on,wait=off",
                                      "-d", "int,cpu_reset,guest_errors", "-D", int_log])
        with VcpuKicker(qmp) as kicks:
            power_off_checks(run, "linux0", 2, LINUX_BOOT_S)
        assert kicks.cycles > 100, f"only {kicks.cycles} QMP stop/cont cycles"
        bad = interrupts_with_if_clear(int_log)
        assert not bad, f"{len(bad)} interrupts delivered with IF clear: {bad[:5]}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert not re.search(r"^\[linux0\] .*x2apic enabled", run.m.log, re.M)
    stats = parse_stats(run.m.command("stats", timeout=60))
    assert stats[("linux0", 0)]["exit_npf"] > 0 and stats[("linux0", 1)]["exit_npf"] > 0, stats
