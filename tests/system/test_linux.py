# SPDX-License-Identifier: MIT
"""Unmodified Linux guests under Sidecore, in Bochs (the only emulator here with
VT-x) and in QEMU's TCG with AMD-V (seconds a boot instead of minutes): Debian's stock kernel with the busybox initramfs of tools/linux-guest/, in
the scenarios of guest-tests/linux/*.cfg (built into BUILD/linux/).

The guest's /init prints machine-readable lines on its console (ttyS0), which
Sidecore shows as "[NAME] LINUX-GUEST: ...":
    userspace uptime=S kernel=R test=MODE boot_id=UUID   (once per boot)
    nproc=N, memtotal_kb=N, timer_irqs=N (twice, 1 s apart), uptime=S,
    action=MODE, and heartbeat=N uptime=S in the heartbeat mode.
These tests check those lines against the configuration, and Sidecore's own
reports of the guest's power events:
    sidecore: guest NAME stopped: power-off...
    sidecore: guest NAME stopped: reboot...; restarting
    sidecore: guest NAME restarted
    sidecore: guest NAME stopped: kernel panic...   (or reboot..., with panic=1)

A Bochs boot of this kernel takes minutes, so the waits are long; but a run that
cannot succeed any more fails at once, naming the line that says so: a guest
stopped for a reason the test does not expect, an ERROR about the guest or a
config problem (sidecore.cfg:LINE:), a kernel panic the test did not ask for,
Sidecore's own PANIC, the emulator's exit, or a guest silent for SILENCE_S."""

import re
import subprocess
import time

import pytest

from machine import REPO, MachineError, build_dir
from scenarios import _locked, disk_stats, guest_rows, image_for, parse_stats

MIB_KB = 1024
# Wall seconds. Bare Bochs reaches this kernel's userspace in 70-140 s with 1 CPU
# (emulators.md; slower on a loaded machine), 100-200 s with 2.
BOOT_S = {1: 1200, 2: 1500}
# A bzImage decompresses without a word: with several guests in one Bochs (one
# host thread for all its CPUs) on a loaded machine that takes minutes of wall time.
SILENCE_S = 900
LINE = "LINUX-GUEST: "


def linux_dir():
    """BUILD/linux with the kernel, the initramfs and the scenario configs (make linux-guest)."""
    def build():
        # The fragment builds on its own, whether or not the top Makefile includes it.
        subprocess.run(["make", "-s", "-f", "tools/linux-guest/linux-guest.mk",
                        f"BUILD={build_dir()}", "linux-guest"], cwd=REPO,
                       check=True, stdout=subprocess.DEVNULL)
        return build_dir() / "linux"
    return _locked(build)


def config_memory_kb(cfg, guest):
    """The memory = of [guest NAME] in cfg, in KiB."""
    section = None
    for line in cfg.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"\[guest\s+(\S+)\]", line)
        if m:
            section = m[1]
        m = re.match(r"memory\s*=\s*(\d+)M$", line)
        if m and section == guest:
            return int(m[1]) * MIB_KB
    raise AssertionError(f"{cfg}: no memory = NNNM for guest {guest}")


class LinuxRun:
    """A Sidecore machine running Linux guests, watched for the lines the tests
    wait for and for the ones that mean they can no longer come.

    stops maps each guest to a regex its stop reason may match (None: the guest
    must not stop at all); panics lists the guests allowed a kernel panic."""

    def __init__(self, m, cfg, stops, panics=(), silence_s=SILENCE_S):
        self.m = m
        self.silence_s = silence_s
        self.cfg = cfg
        self.stops = stops
        self.panics = set(panics)
        self.last_output = time.monotonic()
        self.last_len = 0

    def _check(self):
        m = self.m
        m._check_fatal()  # Sidecore's PANIC and the like
        log = m.log
        for g, allowed in self.stops.items():
            for s in re.finditer(rf"^sidecore: guest {re.escape(g)} stopped: (.*)\n", log, re.M):
                if allowed is None or not re.match(allowed, s[1]):
                    self._fail(f"unexpected: {s[0].strip()!r}", g)
            e = re.search(rf"^.*ERROR: guest {re.escape(g)}\b.*\n", log, re.M)
            if e:
                self._fail(f"Sidecore reported an error: {e[0].strip()!r}", g)
            p = re.search(rf"^\[{re.escape(g)}\] .*Kernel panic - not syncing.*\n", log, re.M)
            if p and g not in self.panics:
                self._fail(f"the guest panicked: {p[0].strip()!r}", g)
        c = re.search(r"^.*sidecore\.cfg:\d+: .*\n", log, re.M)
        if c:
            self._fail(f"config problem: {c[0].strip()!r}")
        if len(log) != self.last_len:
            self.last_len = len(log)
            self.last_output = time.monotonic()
        elif time.monotonic() - self.last_output > self.silence_s:
            self._fail(f"no output at all for {self.silence_s} s")
        if not m.running():
            time.sleep(1)  # let the reader take the last output
            self._fail(f"{m.emulator} exited")

    def _fail(self, what, guest=None):
        tail = self.guest_output(guest)[-15:] if guest else self.m.log.splitlines()[-15:]
        raise MachineError(f"{self.m.name}: {what}\nlast lines"
                           f"{' of ' + guest if guest else ''}:\n" + "\n".join(tail) +
                           f"\nfull log: {self.m.log_path}")

    def guest_output(self, guest):
        prefix = f"[{guest}] "
        return [l[len(prefix):] for l in self.m.log.splitlines() if l.startswith(prefix)]

    def wait(self, regex, timeout, what, count=1, after=0):
        """Waits until regex (multiline) has matched count times in the console log
        after offset after; returns the last match. The log grows in pieces, so a
        regex that reads a value up to the end of a line must end in \\n, not $."""
        pattern = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            found = list(pattern.finditer(self.m.log, after))
            if len(found) >= count:
                return found[count - 1]
            self._check()
            if time.monotonic() > deadline:
                guest = next((g for g in self.stops if f"[{g}]" in regex), None)
                self._fail(f"no {what} within {timeout} s", guest)
            time.sleep(0.5)

    def report(self, guest, timeout, boot=1):
        """Waits for the guest's boot-th LINUX-GUEST report (up to its uptime= line)
        and returns it: {'boot_id', 'nproc', 'memtotal_kb', 'timer_irqs': [a, b], ...}."""
        g = re.escape(guest)
        self.wait(rf"^\[{g}\] {LINE}uptime=\S+\n", timeout,
                  f"'[{guest}] {LINE}uptime=' line (boot {boot}: the guest reached userspace "
                  f"and printed its report)", count=boot)
        blocks, block = [], None
        for line in self.guest_output(guest):
            if not line.startswith(LINE):
                continue
            fields = line[len(LINE):]
            if fields.startswith("userspace "):
                block = {"timer_irqs": []}
                blocks.append(block)
            if block is None:
                continue
            for word in fields.split():
                key, eq, value = word.partition("=")
                if not eq:
                    continue
                if key == "timer_irqs":
                    block["timer_irqs"].append(int(value))
                else:
                    block[key] = int(value) if value.isdigit() else value
        assert len(blocks) >= boot, f"{guest}: {len(blocks)} userspace lines, want {boot}"
        return blocks[boot - 1]

    def check_report(self, guest, r, vcpus):
        """The guest saw its configured cores and memory, and its timer ticks."""
        assert r["nproc"] == vcpus, f"{guest}: nproc={r['nproc']}, configured cpus = {vcpus}"
        want = config_memory_kb(self.cfg, guest)
        got = r["memtotal_kb"]
        # MemTotal is the RAM less what the kernel keeps (its image, struct pages):
        # 46-50 MiB of 128M-256M for this kernel on bare QEMU.
        assert want // 2 < got <= want and want - got < 80 * MIB_KB, \
            f"{guest}: memtotal_kb={got} does not fit memory = {want // MIB_KB}M"
        t = r["timer_irqs"]
        assert len(t) == 2, f"{guest}: timer_irqs lines: {t}"
        assert t[1] > t[0], f"{guest}: local timer interrupts did not advance in 1 s: {t}"


# QEMU's TCG with AMD-V and nested paging (the SVM backend, vmm/svm/): a Linux boot
# takes seconds there against minutes in Bochs, so the scenarios that test
# Sidecore's generic paths (power events, several guests, the console) run there;
# VT-x keeps its own Linux tests in Bochs (2 vCPUs here, the disk tests).
SVM = dict(emulator="qemu", accel="tcg", memory=1024, extra_args=["-cpu", "EPYC,+svm,+npt"])


def start(machine, scenario, stops, panics=(), extra_s=0, emulator="bochs"):
    """Boots the scenario's config (BUILD/linux/SCENARIO.cfg) under Sidecore in Bochs
    (VT-x) or, with emulator="svm", in QEMU/SVM, with the boot CPU plus one CPU per
    guest core, plus one for an I/O sidecore when the config has a disk (none of
    these scenarios says io = trap)."""
    cfg = linux_dir() / f"{scenario}.cfg"
    text = re.sub(r"#.*", "", cfg.read_text())
    cores = sum(int(n) for n in re.findall(r"^\s*cpus\s*=\s*(\d+)", text, re.M))
    sidecores = 1 if re.search(r"^\s*disk\s*=\s*\S", text, re.M) else 0
    budget = BOOT_S[min(cores, 2)] + extra_s
    where = SVM if emulator == "svm" else dict(emulator="bochs", memory=512)
    m = machine(image=image_for(f"linux-{scenario}", cfg), smp=1 + cores + sidecores,
                timeout=budget + 60, **where)
    return LinuxRun(m, cfg, stops, panics), budget


# Kernel log lines that mean the stock kernel found fault with Sidecore's virtual
# platform (its ACPI tables, the PM block's fixed events, a PCI interrupt pin that
# leads nowhere): issue 12, defect 8.
PLATFORM_COMPLAINTS = re.compile(r"ACPI Error|ACPI Warning|ACPI BIOS (Error|Warning)|"
                                 r"Could not enable|Global Lock|\[Firmware Bug\]|"
                                 r"can't derive routing|no GSI")


def check_no_platform_complaints(run, guest):
    """Nothing in the guest's boot log (up to its userspace report) blames the platform."""
    bad = [l for l in run.guest_output(guest) if PLATFORM_COMPLAINTS.search(l)]
    assert not bad, f"{guest}: the kernel complains about the platform:\n" + "\n".join(bad)


def power_off_checks(run, guest, vcpus, budget):
    r = run.report(guest, budget)
    run.check_report(guest, r, vcpus)
    check_no_platform_complaints(run, guest)
    run.wait(rf"^sidecore: guest {guest} stopped: power-off.*$", 180,
             f"'sidecore: guest {guest} stopped: power-off...' after its poweroff -f")
    rows = guest_rows(run.m.command("guests", timeout=120))
    assert rows[guest][1] == "stopped", rows[guest]
    stats = parse_stats(run.m.command("stats", timeout=120))
    for i in range(vcpus):
        s = stats[(guest, i)]
        assert s["exits"] > 0, s


# One vCPU (the bzImage path) and reboot-with-restart run under QEMU/SVM:
# test_svm.py's test_svm_linux_one_vcpu_boots_and_powers_off and
# test_svm_linux_reboot_restarts_the_guest, with the same checks.


@pytest.mark.timeout(BOOT_S[2] + 300)
def test_linux_two_vcpus_boots_and_powers_off(machine):
    """2 vCPUs, 128M: as with one, and the guest brings up its second vCPU itself
    (INIT/SIPI) on a second physical core: nproc=2, and both vCPUs counted exits."""
    run, budget = start(machine, "two-vcpus", {"linux0": r"power-off"})
    power_off_checks(run, "linux0", 2, budget)


@pytest.mark.timeout(BOOT_S[2] + 600)
def test_linux_two_guests_one_powers_off_the_other_runs_on(machine):
    """Two Linux guests at once, one core each: both reach userspace and report
    their core and memory; linux-a powers off, and linux-b's heartbeat goes on
    after that report; `guests` then shows linux-a stopped and linux-b running, on
    different cores. Under QEMU/SVM."""
    run, budget = start(machine, "pair", {"linux-a": r"power-off", "linux-b": None},
                        extra_s=300, emulator="svm")
    for g in ("linux-a", "linux-b"):
        run.check_report(g, run.report(g, budget), 1)
    stop = run.wait(r"^sidecore: guest linux-a stopped: power-off.*$", 180,
                    "'sidecore: guest linux-a stopped: power-off...'")
    # Two heartbeats of linux-b after linux-a stopped: it kept running.
    run.wait(rf"^\[linux-b\] {LINE}heartbeat=\d+ uptime=", 240,
             "two linux-b heartbeats after linux-a stopped", count=2, after=stop.end())
    rows = guest_rows(run.m.command("guests", timeout=120))
    assert rows["linux-a"][1] == "stopped", rows["linux-a"]
    assert rows["linux-b"][1] == "running", rows["linux-b"]
    assert rows["linux-a"][2] != rows["linux-b"][2], f"same cores: {rows}"
    before = len(re.findall(rf"^\[linux-b\] {LINE}heartbeat=", run.m.log, re.M))
    run.wait(rf"^\[linux-b\] {LINE}heartbeat=", 120, "a linux-b heartbeat after `guests`",
             count=before + 1)


@pytest.mark.timeout(BOOT_S[1] + 300)
def test_linux_panic_is_reported_and_stops_the_guest(machine):
    """A kernel panic (sysrq c, with panic=1 and on_reboot = stop): the guest's panic
    message reaches the console, Sidecore reports 'stopped: kernel panic...' (or,
    when only the reset that panic=1 makes one second later reaches it, 'stopped:
    reboot...'), and the guest stays stopped. Under QEMU/SVM."""
    run, budget = start(machine, "panic", {"linux0": r"(kernel panic|reboot)"},
                        panics=["linux0"], emulator="svm")
    run.check_report("linux0", run.report("linux0", budget), 1)
    run.wait(r"^\[linux0\] .*Kernel panic - not syncing: sysrq triggered crash", 120,
             "the guest's 'Kernel panic - not syncing: sysrq triggered crash'")
    s = run.wait(r"^sidecore: guest linux0 stopped: .*\n", 180,
                 "'sidecore: guest linux0 stopped: kernel panic...' (or reboot...)")
    assert "restarting" not in s[0], s[0]
    rows = guest_rows(run.m.command("guests", timeout=120))
    assert rows["linux0"][1] == "stopped", rows["linux0"]
    assert len(re.findall(rf"^\[linux0\] {LINE}userspace ", run.m.log, re.M)) == 1, \
        "the guest booted again"


def input_path_state(m):
    """After a keystroke went unanswered: detach (~. after the Enter that was
    sent) and show where typed input stood, twice 5 s apart (`console NAME
    state`), and the guest's vCPU, so a failure says whether the byte, the
    interrupt or the guest stopped it."""
    try:
        m.send("~.")
        m.expect(r"^detached from linux0\n", 30)
        m.wait_prompt(60)
        first = m.command("console linux0 state", timeout=60)
        time.sleep(5)
        second = m.command("console linux0 state", timeout=60)
        stats = [l for l in m.command("stats", timeout=60).splitlines() if "linux0" in l]
        return "input path:\n" + first.strip() + "\n5 s later:\n" + second.strip() + \
            "\n" + "\n".join(stats)
    except MachineError as e:
        return f"input path: could not be read ({str(e).splitlines()[0]})"


@pytest.mark.timeout(BOOT_S[1] + 600)
def test_linux_console_attach_reaches_the_guest_shell(machine):
    """What `make run` boots (guest-tests/linux/default.cfg): `console linux0 attach`
    connects the serial line to the guest's interactive busybox shell: a command
    typed there runs in the guest (its computed answer comes back as
    "[linux0] attach-42", which the echo of the typed line cannot be), and so does
    a read of its virtio disk; ~. at the start of a line detaches, back to the
    sidecore> prompt, with the guest still running; what is typed after that goes
    to Sidecore's shell, not the guest; attaching again reaches the same shell; and
    `stats` shows the I/O sidecore serving the disk with no notification exit.
    In Bochs: under QEMU/SVM a keystroke sent right after a command's output was
    lost in 2 of 5 runs here (the shell never answered the Enter that detaches),
    not yet explained, so this test stays where it has always passed. It did not
    come back in 5 more runs of this test and 100 more attach/Enter cycles in two
    boots under QEMU/SVM on a loaded machine (issue 14); should it, the failure
    now shows where the byte stopped (input_path_state)."""
    run, budget = start(machine, "default", {"linux0": None}, extra_s=300)
    m = run.m
    run.check_report("linux0", run.report("linux0", budget), 1)
    run.wait(r"^\[linux0\] Busybox shell on the console\.", 300,
             "the guest's '[linux0] Busybox shell on the console...' banner")
    # The guest's shell prompt ("linux-guest:/# ") has no newline, so it shows up
    # as a "[linux0] " line only once Enter has reached the shell.
    guest_prompt = r"^\[linux0\] .*linux-guest:\S*# .*\n"

    def attach():
        mark = len(m.log)
        m.send_line("console linux0 attach")
        run.wait(r"^attached to linux0's console; type ~\. at the start of a line to detach\n",
                 120, "'attached to linux0's console...'", after=mark)
        mark = len(m.log)
        m.send("\r")
        answered(guest_prompt, "the guest shell's prompt line after Enter", mark)

    def answered(regex, what, mark):
        """Waits for the guest's answer to what was typed; if it never comes,
        the failure says where the input stood."""
        try:
            return run.wait(regex, 240, what, after=mark)
        except MachineError as e:
            raise MachineError(f"{e}\n{input_path_state(m)}") from None

    def detach():
        mark = len(m.log)
        m.send("\r")  # ~. counts only at the start of a line
        answered(guest_prompt, "the guest shell's prompt line after Enter", mark)
        m.send("~.")
        run.wait(r"^detached from linux0\n", 60, "'detached from linux0'", after=mark)
        m.expect(r"^detached from linux0\n", 10)  # then Sidecore's prompt after it
        m.wait_prompt(60)

    m.wait_prompt(120)  # Sidecore's shell is up before anything is typed
    attach()
    mark = len(m.log)
    m.send("echo attach-$((6*7))\r")
    run.wait(r"^\[linux0\] attach-42\n", 240,
             "the guest's answer '[linux0] attach-42' (not the echo of the command)", after=mark)
    mark = len(m.log)
    m.send("dd if=/dev/vda of=/dev/null bs=4k count=64 iflag=direct 2>/dev/null; "
           "echo vda-$(cat /sys/block/vda/size)-$?\r")
    run.wait(r"^\[linux0\] vda-32768-0\n", 240,
             "the guest's '[linux0] vda-32768-0' (its 16 MiB disk read)", after=mark)
    detach()

    disks, queues, cores = disk_stats(m.command("stats", timeout=120))
    d = disks["linux0"]
    assert d["io"] == "sidecore" and d["state"] == "ok" and d["notify_exits"] == 0, d
    assert queues[("linux0", 0)]["reads"] >= 64 and queues[("linux0", 0)]["errors"] == 0, queues
    assert queues[("linux0", 0)]["trap_services"] == 0, queues
    assert len(cores) == 1 and cores[0]["state"] == "polling" and cores[0]["busy_rounds"] > 0, cores

    rows = guest_rows(m.command("guests", timeout=120))
    assert rows["linux0"][1] == "running", rows["linux0"]
    out = m.command("echo leaked-$((1+1))", timeout=120)
    assert "unknown command 'echo'" in out, f"Sidecore's shell did not take the line: {out!r}"
    time.sleep(10)
    assert "leaked" not in "\n".join(run.guest_output("linux0")), \
        "text typed after the detach reached the guest:\n" + \
        "\n".join(run.guest_output("linux0")[-10:])
    assert "attach-42" in m.command("console linux0", timeout=120)

    # Attached again, the same shell answers; the line typed while detached has
    # still not reached it (it would have run before this command).
    attach()
    mark = len(m.log)
    m.send("echo again-$((2+3))\r")
    run.wait(r"^\[linux0\] again-5\n", 240, "the guest's answer '[linux0] again-5'", after=mark)
    detach()
    guest = "\n".join(run.guest_output("linux0"))
    assert "leaked" not in guest, f"text typed while detached reached the guest:\n{guest[-500:]}"
    rows = guest_rows(m.command("guests", timeout=120))
    assert rows["linux0"][1] == "running", rows["linux0"]
    # Everything typed while attached went into the UART and the guest read it.
    state = m.command("console linux0 state", timeout=120)
    q = re.search(r"input head=(\d+) tail=(\d+) dropped=(\d+);.* rx=(\d+) ", state)
    assert q and int(q[1]) > 0 and q[1] == q[2] and q[3] == "0" and q[4] == "0", state
