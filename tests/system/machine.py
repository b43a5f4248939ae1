# SPDX-License-Identifier: MIT
"""One emulated machine running Sidecore, driven through its serial console.

The system tests (and `make run`) build every emulator command here, so the
recipes that work on these machines (see shared/notes/emulators.md) live in
one place:

  QEMU  -M q35, SeaBIOS or OVMF (pflash, fresh VARS per run), media iso / usb /
        pxe, serial on a unix socket the emulator waits on.
  Bochs the VT-x CPU model (corei7_skylake_x), the ISO on ata0-master, a
        bochsrc generated per run, COM1 as a TCP socket server. Two builds:
        "own", the project's Bochs 3.0 (`make bochs`, build/bochs/bin/bochs:
        posted interrupts, the IF=0 erratum fixed, nogui display, no
        debugger), and "stock", Debian 12's Bochs 2.7 (built with its
        debugger and without nogui: it runs under `script` with the `term`
        display, and its screen pseudo-terminal is drained). The option
        `bochs` or $SIDECORE_BOCHS (stock, own or a path to a 3.0 binary)
        chooses; see DEFAULT_BOCHS.

A reader thread copies everything the guest writes into a buffer (and live
into the test's log file); expect() / command() search that buffer. Every
wait is bounded, a watchdog kills the emulator when the whole run exceeds
its budget, and close() always kills the emulator's process group.

Run `python3 tests/system/machine.py --help` for the interactive mode that
tools/run.sh uses.
"""

import argparse
import codecs
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS.fd")
BOCHS_BIOS = Path("/usr/share/bochs/BIOS-bochs-latest")
BOCHS_VGABIOS = Path("/usr/share/vgabios/vgabios.bin")
BOCHS_CPU_MODEL = "corei7_skylake_x"  # has VT-x with EPT, VPID, unrestricted guest
STOCK_BOCHS = Path("/usr/bin/bochs")  # Debian 12's 2.7 (package bochs)
# Which Bochs a machine gets when neither its `bochs` option nor $SIDECORE_BOCHS
# says: the project's (`make bochs`; posted interrupts, our errata fixes). The
# canary in test_virtio.py asks for Debian's 2.7 itself.
DEFAULT_BOCHS = "own"
# Bochs' emulated instructions per emulated second (`cpu: ips=`) unless a machine's
# `ips` option says otherwise. Bochs' default (4M) makes a guest kernel's timer tick
# cost a large share of its instructions; 50M is closer to a real core.
BOCHS_IPS = 50_000_000

PROMPT = "sidecore> "
# The whole line, newline included: with `$` a line still arriving once matched as
# "mem=3" (CI, test_memory_straddles_pci_hole).
READY_RE = r"^sidecore: ready cpus=(?P<cpus>\d+) sockets=(?P<sockets>\d+) mem=(?P<mem>\S+)\r?\n"
START_RE = r"Sidecore hypervisor starting \(boot path (?P<path>[^)]*)\)"
# Output that means the run cannot succeed any more: fail at once instead of
# waiting for a timeout.
FATAL_RES = [
    r"^PANIC: .*",
    r"^.*Shell> ",  # OVMF gave up on every boot option and started its shell
    r"^!!!! X64 Exception Type.*",  # a CPU exception under UEFI (loader or firmware)
]

# The prompt can follow output on the same line when the guest printed no
# final newline, so it is not anchored.
_PROMPT_RE = re.compile(re.escape(PROMPT))
_ANSI_RE = re.compile(r"\x1b(\[[0-9;?=<>]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>78DEHM])")


def _die_with_parent():
    """In the emulator's child process: SIGKILL it if the test process dies, even by
    SIGKILL, so no emulator outlives its test run (close() is the normal way)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def build_dir():
    """The build directory the images come from: $BUILD (as for make), default build/."""
    return (REPO / os.environ.get("BUILD", "build")).resolve()


def log_dir():
    return build_dir() / "test-logs"


def own_bochs_path():
    """Where `make bochs` puts the project's Bochs 3.0: $BUILD/bochs/bin/bochs, else
    the repository's build/ (tools/run.sh points BUILD at a per-run image dir)."""
    for b in (build_dir(), REPO / "build"):
        p = b / "bochs" / "bin" / "bochs"
        if p.exists():
            return p
    return build_dir() / "bochs" / "bin" / "bochs"


def resolve_bochs(choice=None):
    """("stock" | "own", binary path) for a `bochs` option: "stock", "own", a path to
    a Bochs 3.0 binary built like `make bochs`, or None for $SIDECORE_BOCHS, else
    DEFAULT_BOCHS."""
    choice = choice or os.environ.get("SIDECORE_BOCHS") or DEFAULT_BOCHS
    if choice == "stock":
        return "stock", STOCK_BOCHS
    if choice == "own":
        return "own", own_bochs_path()
    return "own", Path(choice).resolve()


def free_tcp_port():
    """A TCP port on 127.0.0.1 nobody listens on right now (the emulator binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MachineError(AssertionError):
    """A wait failed: timeout, emulator exit, or fatal output. Message says which."""


class Machine:
    """An emulator running a Sidecore image.

    emulator  "qemu" or "bochs"
    firmware  "bios" (SeaBIOS; Bochs always uses its own BIOS) or "ovmf" (QEMU only)
    media     "iso" (build/sidecore.iso as a CD), "usb" (build/sidecore-usb.img as a
              USB stick) or "pxe" (network boot from build/pxe/; OVMF only)
    smp       CPUs; memory in MiB
    sockets   CPU sockets the smp CPUs are split into, smp / sockets cores each, one
              thread per core (default 1: one socket of smp cores, as a server has;
              Bochs `cpu: count=SOCKETS:CORES:1`, QEMU `-smp N,sockets=S,cores=C`)
    reboot    False adds -no-reboot (a triple fault ends QEMU instead of looping);
              True lets a guest reboot restart the machine
    accel     "tcg" or "kvm" (QEMU; kvm adds -cpu host)
    extra_args  appended to the QEMU command line / added as bochsrc lines
    timeout   seconds the whole run may take; then the emulator is killed
    bochs     which Bochs: "stock" (Debian's 2.7), "own" (`make bochs`, 3.0) or a
              path; default $SIDECORE_BOCHS, else DEFAULT_BOCHS
    host_cpus the host CPUs the emulator may run on (`taskset -c`, e.g. "1"); default
              any. Fewer host CPUs than smp makes the emulated CPUs share them
    ips       Bochs' emulated instructions per emulated second (default BOCHS_IPS):
              a test that compares guest time with device time may need a faster
              emulated core; every emulated second then costs more wall time
    """

    def __init__(self, name, emulator="qemu", firmware="bios", media="iso", smp=1,
                 memory=512, reboot=False, accel="tcg", extra_args=(), timeout=300,
                 build=None, logs=None, image=None, bochs=None, sockets=1, host_cpus=None,
                 ips=BOCHS_IPS):
        if emulator not in ("qemu", "bochs"):
            raise ValueError(f"unknown emulator {emulator!r}")
        if firmware not in ("bios", "ovmf"):
            raise ValueError(f"unknown firmware {firmware!r}")
        if media not in ("iso", "usb", "pxe"):
            raise ValueError(f"unknown media {media!r}")
        if emulator == "bochs" and (firmware != "bios" or media != "iso"):
            raise ValueError("Bochs boots the ISO with its legacy BIOS only")
        if media == "pxe" and firmware != "ovmf":
            raise ValueError("PXE boot needs firmware='ovmf' (the UEFI loader)")
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "machine"
        self.emulator = emulator
        self.firmware = firmware
        self.media = media
        if sockets < 1 or smp % sockets:
            raise ValueError(f"smp={smp} does not split into {sockets} equal sockets")
        if emulator == "bochs" and sockets > 1 and (smp // sockets) & (smp // sockets - 1):
            raise ValueError(f"Bochs with {sockets} sockets needs a power-of-two core count "
                             f"per socket (its APIC IDs are dense), not {smp // sockets}")
        self.smp = smp
        if not 1_000_000 <= ips < 2**32:
            raise ValueError(f"ips={ips}: Bochs takes 1M to 4G instructions per second")
        self.ips = ips
        self.sockets = sockets
        self.cores = smp // sockets  # per socket
        self.memory = memory
        self.reboot = reboot
        self.accel = accel
        self.extra_args = list(extra_args)
        self.timeout = timeout
        self.build = Path(build) if build else build_dir()
        self.image = Path(image) if image else None
        self.log_path = Path(logs or log_dir()) / f"{self.name}.log"
        self.command_line = None
        self.bochs_kind, self.bochs_binary = resolve_bochs(bochs)
        self.host_cpus = host_cpus

        self._proc = None
        self._sock = None
        self._reader = None
        self._watchdog = None
        self._workdir = None
        self._emu_out = None
        self._logf = None
        self._cond = threading.Condition()
        self._buf = ""  # everything read, carriage returns dropped
        self._pos = 0  # where the next expect() starts searching
        self._fatal_pos = 0  # output before this was checked for FATAL_RES
        self._eof = False
        self._killed_by_watchdog = False
        self._at_prompt = False
        self._prompt_missing = False
        self._started_at = None
        self.char_delay = 0.002 if emulator == "bochs" else 0.0
        self.fatal_res = [re.compile(r, re.M) for r in FATAL_RES]

    # ----- emulator command lines --------------------------------------------------------

    def _media_path(self):
        if self.image:
            return self.image
        return {
            "iso": self.build / "sidecore.iso",
            "usb": self.build / "sidecore-usb.img",
            "pxe": self.build / "pxe" / "BOOTX64.EFI",
        }[self.media]

    def qemu_command(self, serial):
        """QEMU's argv; serial is the -serial backend (e.g. unix:PATH,server=on,wait=on)."""
        smp = f"{self.smp},sockets={self.sockets},cores={self.cores},threads=1"
        cmd = ["qemu-system-x86_64", "-M", "q35", "-smp", smp, "-m", str(self.memory),
               "-display", "none", "-monitor", "none", "-parallel", "none",
               "-serial", serial]
        if self.accel == "kvm":
            cmd += ["-enable-kvm", "-cpu", "host"]
        if not self.reboot:
            cmd.append("-no-reboot")
        # Resets, triple faults and guest errors (bad MSR/IO accesses) go to a file that
        # ends up in the log; a failure message quotes its non-register lines.
        cmd += ["-d", "cpu_reset,guest_errors", "-D", str(self._workdir / "qemu-debug.log")]
        if self.firmware == "ovmf":
            vars_copy = self._workdir / "OVMF_VARS.fd"
            shutil.copyfile(OVMF_VARS, vars_copy)
            cmd += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,file={vars_copy}"]
        media = self._media_path()
        if self.media == "iso":
            cmd += ["-cdrom", str(media), "-nic", "none"]
        elif self.media == "usb":
            # snapshot=on: the test never writes the shared image.
            cmd += ["-device", "qemu-xhci,id=xhci",
                    "-drive", f"if=none,id=usbstick,format=raw,snapshot=on,file={media}",
                    "-device", "usb-storage,bus=xhci.0,drive=usbstick", "-nic", "none"]
        else:  # pxe; OVMF ignores -boot n, bootindex picks the NIC
            cmd += ["-netdev", f"user,id=n0,tftp={media.parent},bootfile={media.name}",
                    "-device", "virtio-net-pci,netdev=n0,bootindex=0"]
        return cmd + self.extra_args

    def bochsrc(self, port):
        """The text of a bochsrc that boots the ISO with COM1 on 127.0.0.1:port."""
        lines = [
            f"megs: {self.memory}",
            # fastboot skips the BIOS's F12 prompt (3 emulated s, whose wall time
            # grows with the pace); the default pace keeps the BIOS as it was.
            f"romimage: file={BOCHS_BIOS}"
            + (", options=fastboot" if self.ips != BOCHS_IPS else ""),
            f"vgaromimage: file={BOCHS_VGABIOS}",
            # Without reboot a triple fault is a Bochs panic (fatal: Bochs exits).
            # ips: emulated instructions per emulated second (BOCHS_IPS).
            # count=SOCKETS:CORES:THREADS. Bochs numbers APIC IDs densely (the CPU
            # index) while its CPUID gives the core field a power-of-two width, so
            # several sockets need a power-of-two core count (checked in __init__).
            f"cpu: model={BOCHS_CPU_MODEL}, count={self.sockets}:{self.cores}:1, "
            f"ips={self.ips}, "
            f"reset_on_triple_fault={int(self.reboot)}",
            "pci: enabled=1, chipset=i440fx",
            "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
            f"ata0-master: type=cdrom, path={self._media_path()}, status=inserted",
            "boot: cdrom",
            f"com1: enabled=1, mode=socket-server, dev=127.0.0.1:{port}",
        ]
        if self.bochs_kind == "stock":
            lines += [
                "display_library: term",
                # Without these two Bochs 2.7 aborts at start ("buffer overflow detected").
                "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy",
                "speaker: enabled=0",
            ]
        else:
            lines += ["display_library: nogui", "speaker: enabled=0"]
        lines += [
            "clock: sync=none, time0=local",
            "port_e9_hack: enabled=1",
            f"log: {self._workdir / 'bochs.log'}",
            "panic: action=fatal",
            "error: action=report",
        ]
        return "\n".join(lines + self.extra_args) + "\n"

    def bochs_command(self, port):
        rc = self._workdir / "bochsrc"
        rc.write_text(self.bochsrc(port))
        if self.bochs_kind == "own":
            # No debugger and no terminal display: Bochs runs as it is.
            return [str(self.bochs_binary), "-q", "-f", str(rc)]
        cmds = self._workdir / "cmds"
        cmds.write_text("c\n")  # the debugger's "continue"
        inner = shlex.join([str(self.bochs_binary), "-q", "-f", str(rc), "-rc", str(cmds)])
        # Bochs's term display needs a terminal: script gives it a pseudo-terminal.
        return ["script", "-q", "-e", "-c", inner, "/dev/null"]

    # ----- start and stop ------------------------------------------------------------------

    def start(self):
        """Starts the emulator and connects to its console; on failure nothing is left running."""
        try:
            return self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        media = self._media_path()
        if not media.exists():
            raise MachineError(f"{media} does not exist: build the images first "
                               f"(make BUILD={os.path.relpath(self.build, REPO)} images)")
        if self.emulator == "bochs" and not self.bochs_binary.exists():
            raise MachineError(f"{self.bochs_binary} does not exist ({self.bochs_kind} Bochs): "
                               + ("run `make bochs`" if self.bochs_kind == "own"
                                  else "install the package bochs (tools/install-deps.sh)"))
        if self.firmware == "ovmf":
            for f in (OVMF_CODE, OVMF_VARS):
                if not f.exists():
                    raise MachineError(f"{f} is missing (package ovmf; run tools/install-deps.sh)")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # A short path: unix socket names are limited to 108 bytes.
        self._workdir = Path(tempfile.mkdtemp(prefix="sidecore-"))
        self._emu_out = open(self._workdir / "emulator.out", "wb")
        env = dict(os.environ)
        if self.emulator == "qemu":
            sock_path = self._workdir / "serial.sock"
            cmd = self.qemu_command(f"unix:{sock_path},server=on,wait=on")
            address = (socket.AF_UNIX, str(sock_path))
        else:
            port = free_tcp_port()
            cmd = self.bochs_command(port)
            address = (socket.AF_INET, ("127.0.0.1", port))
            if self.bochs_kind == "stock":
                env["TERM"] = "xterm"  # curses needs one; CI has none
        if self.host_cpus is not None:
            cmd = ["taskset", "-c", str(self.host_cpus)] + cmd
        self.command_line = cmd
        self._logf = open(self.log_path, "w", encoding="utf-8", errors="replace")
        what = self.emulator + (f" ({self.bochs_kind})" if self.emulator == "bochs" else "")
        self._logf.write(f"# {what} command: {shlex.join(cmd)}\n")
        if self.emulator == "bochs":
            self._logf.write("# bochsrc:\n" + "".join(
                f"#   {l}\n" for l in (self._workdir / "bochsrc").read_text().splitlines()))
        self._logf.write("# ---- serial console ----\n")
        self._logf.flush()
        self._started_at = time.monotonic()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._emu_out,
                                      stderr=subprocess.STDOUT, start_new_session=True,
                                      cwd=self._workdir, env=env, preexec_fn=_die_with_parent)
        self._watchdog = threading.Timer(self.timeout, self._watchdog_fire)
        self._watchdog.daemon = True
        self._watchdog.start()
        self._sock = self._connect(address)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        if self.emulator == "bochs" and self.bochs_kind == "stock":
            threading.Thread(target=self._drain_bochs_screen, daemon=True).start()
        return self

    def _drain_bochs_screen(self):
        """Reads and drops what Bochs's term display writes to its screen.

        Built with its debugger, Bochs puts the screen on a pseudo-terminal of its
        own ("Bochs connected to screen /dev/pts/N") that nobody opens. Its text
        display redraws the cursor on every blink, so after some minutes of
        emulation the terminal's buffer is full and Bochs blocks in write():
        every emulated CPU stops at once, which looked like the guests hanging."""
        out = self._workdir / "emulator.out"
        deadline = time.monotonic() + 60
        name = None
        while name is None and time.monotonic() < deadline and self._proc.poll() is None:
            try:
                m = re.search(r'connected to screen "?(/dev/pts/\d+)', out.read_text(errors="replace"))
            except OSError:
                m = None
            if m:
                name = m[1]
            else:
                time.sleep(0.2)
        if name is None:
            return
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOCTTY)
        except OSError:
            return
        try:
            # Raw: a canonical-mode read waits for a newline the screen never
            # sends, and echo would feed the output back to Bochs as keys.
            import tty
            tty.setraw(fd)
        except (OSError, ImportError):
            pass
        try:
            while self._proc.poll() is None:
                if not os.read(fd, 65536):
                    break
        except OSError:
            pass
        finally:
            os.close(fd)

    def _connect(self, address):
        family, addr = address
        deadline = time.monotonic() + 30
        while True:
            if self._proc.poll() is not None:
                raise MachineError(f"{self.emulator} exited with status {self._proc.returncode} "
                                   f"before its serial port could be reached:\n"
                                   f"{self._emulator_output_tail()}")
            s = socket.socket(family, socket.SOCK_STREAM)
            try:
                s.connect(addr)
                return s
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise MachineError(f"could not connect to {self.emulator}'s serial port "
                                       f"{addr} within 30 s")
                time.sleep(0.05)

    def _read_loop(self):
        sock = self._sock
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            text = decoder.decode(data, final=not data)
            if text:
                self._logf.write(text.replace("\r", ""))
                self._logf.flush()
            with self._cond:
                self._buf += text.replace("\r", "")
                if not data:
                    self._eof = True
                self._cond.notify_all()
            if not data:
                return

    def _watchdog_fire(self):
        self._killed_by_watchdog = True
        self._kill()

    def _kill(self):
        if self._proc and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def close(self):
        """Kills the emulator and completes the log file. Safe to call twice."""
        if self._watchdog:
            self._watchdog.cancel()
        self._kill()
        if self._sock:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._reader:
            self._reader.join(5)
            self._reader = None
        if self._sock:
            self._sock.close()
            self._sock = None
        if self._logf:
            self._logf.write("\n# ---- emulator output ----\n")
            self._logf.write(self._emulator_output(full=True))
            self._logf.close()
            self._logf = None
        if self._emu_out:
            self._emu_out.close()
            self._emu_out = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def _emulator_output(self, full=False):
        """The emulator's stdout/stderr (and Bochs's own log), terminal codes removed."""
        if not self._workdir:
            return ""
        parts = []
        for f in ("emulator.out", "bochs.log", "qemu-debug.log"):
            p = self._workdir / f
            if p.exists():
                text = _ANSI_RE.sub("", p.read_bytes().decode("utf-8", "replace"))
                text = re.sub(r"[^\x09\x0a\x20-\x7e]", "", text)
                if f == "qemu-debug.log" and not full:
                    # Register dumps of CPUs at reset say little; keep the events.
                    text = "\n".join(l for l in text.splitlines()
                                      if not re.match(r"^\s*[A-Z][A-Z0-9 ]*=", l))
                limit = 200000 if full else 2000
                if len(text) > limit:
                    text = "[...]\n" + text[-limit:]
                parts.append(f"[{f}]\n{text}")
        return "\n".join(parts)

    def _emulator_output_tail(self):
        return self._emulator_output(full=False)

    # ----- reading and writing the console -------------------------------------------------

    @property
    def log(self):
        """Everything the guest wrote so far (carriage returns dropped)."""
        with self._cond:
            return self._buf

    def running(self):
        return self._proc is not None and self._proc.poll() is None

    def _failure(self, what):
        tail = "\n".join(_ANSI_RE.sub("", self.log[self._pos:]).splitlines()[-30:])
        tail = tail or "(no output)"
        lines = [what, f"console output since the last match (last 30 lines):\n{tail}"]
        if self._proc and self._proc.poll() is not None:
            lines.append(f"{self.emulator} output:\n{self._emulator_output_tail()}")
        lines.append(f"full log: {self.log_path}")
        return MachineError("\n".join(lines))

    def _check_fatal(self):
        """Raises if output not yet checked holds a fatal line. Caller holds _cond."""
        start = self._buf.rfind("\n", 0, self._fatal_pos) + 1
        end = self._buf.rfind("\n") + 1  # whole lines only, except the OVMF shell prompt
        for r in self.fatal_res:
            m = r.search(self._buf, start)
            if m and (m.end() <= end or r.pattern.endswith("> ")):
                self._fatal_pos = len(self._buf)
                # Let the lines that explain it (registers, ...) arrive first.
                until = time.monotonic() + 1.0
                while not self._eof and time.monotonic() < until:
                    self._cond.wait(until - time.monotonic())
                raise self._failure(f"{self.name}: fatal output from the machine: {m.group(0)!r}")
        self._fatal_pos = end

    def expect(self, regex, timeout=30, what=None):
        """Waits until output after the previous match matches regex (re.MULTILINE);
        returns the match and moves past it. Raises MachineError on timeout, on the
        emulator's exit, or when a fatal line (PANIC, ...) appears first. what names
        the awaited output in failure messages (default: the regex)."""
        pattern = re.compile(regex, re.M) if isinstance(regex, str) else regex
        what = what or f"/{pattern.pattern}/"
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = pattern.search(self._buf, self._pos)
                if m:
                    self._pos = m.end()
                    self._at_prompt = pattern is _PROMPT_RE
                    return m
                self._check_fatal()
                if self._killed_by_watchdog:
                    raise self._failure(f"{self.name}: the run exceeded its {self.timeout} s "
                                        f"budget while waiting for {what}")
                if self._eof:
                    status = None
                    if self._proc:
                        try:
                            status = self._proc.wait(3)
                        except subprocess.TimeoutExpired:
                            pass
                    raise self._failure(f"{self.name}: the serial console closed ({self.emulator} "
                                        f"exit status {status}) while waiting for {what}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._failure(f"{self.name}: no {what} within {timeout} s")
                self._cond.wait(min(left, 0.5))

    def skip_output(self):
        """Moves past everything printed so far: the next expect() only searches what
        comes after (a prompt printed long ago must not answer for a new one)."""
        with self._cond:
            self._pos = len(self._buf)
            self._at_prompt = False

    def send(self, data):
        """Types raw bytes (or text) on the console."""
        if isinstance(data, str):
            data = data.encode()
        self._at_prompt = False
        if not self._sock:
            raise MachineError(f"{self.name}: the machine is not running")
        try:
            if self.char_delay:
                for i in range(len(data)):
                    self._sock.sendall(data[i:i + 1])
                    time.sleep(self.char_delay)
            else:
                self._sock.sendall(data)
        except OSError as e:
            raise self._failure(f"{self.name}: cannot type on the console: {e}")

    def send_line(self, text):
        """Types text and Enter (a carriage return, as a terminal sends)."""
        self.send(text + "\r")

    def wait_prompt(self, timeout=30):
        """Waits for the shell's prompt. Once a machine has failed to show any prompt,
        later waits fail at once instead of spending their whole timeout again."""
        if self._prompt_missing and PROMPT not in self.log:
            raise self._failure(f"{self.name}: the shell never showed its prompt "
                                f"{PROMPT!r} (an earlier wait already timed out)")
        try:
            return self.expect(_PROMPT_RE, timeout, what=f"shell prompt {PROMPT!r}")
        except MachineError:
            if PROMPT not in self.log:
                self._prompt_missing = True
            raise

    def command(self, text, timeout=30, keys=None):
        """Runs a shell command and returns its output: the lines between the echo of
        the command and the next prompt, without the echo. keys, when given, are the
        bytes typed instead of text + Enter (e.g. with backspaces) that should amount
        to text."""
        if not self._at_prompt:
            self.wait_prompt(timeout)
        start = self._pos
        if keys is None:
            self.send_line(text)
        else:
            self.send(keys)
        m = self.wait_prompt(timeout)
        return strip_echo(self.log[start:m.start()], text)

    def wait_ready(self, timeout=120):
        """Waits for `sidecore: ready ...`; returns {'cpus': int, 'sockets': int, 'mem': str}."""
        m = self.expect(READY_RE, timeout,
                        what="ready line 'sidecore: ready cpus=N sockets=S mem=SIZE'")
        return {"cpus": int(m["cpus"]), "sockets": int(m["sockets"]), "mem": m["mem"]}

    def boot_path(self, timeout=120):
        """Waits for the start line; returns the boot path it names."""
        m = self.expect(START_RE, timeout,
                        what="start line 'Sidecore hypervisor starting (boot path ...)'")
        return m["path"]


def module_machine(request, **options):
    """For a module-scoped pytest fixture: a (not yet started) machine named after the
    module, logging to build/test-logs/<module>.log. Use `with module_machine(...) as m:`
    so it is killed at the end of the module."""
    return Machine(request.module.__name__.rsplit(".", 1)[-1], **options)


def strip_echo(out, typed):
    """Drops the console's echo of the typed line (the first line) from a command's output."""
    first, _, rest = out.partition("\n")
    if typed.strip() and typed.strip() in apply_backspaces(first):
        return rest
    return out


def apply_backspaces(text):
    """What a terminal shows for text with BS/DEL erasing and "BS space BS" echoes."""
    out = []
    for ch in text:
        if ch in "\b\x7f":
            if out:
                out.pop()
        else:
            out.append(ch)
    return "".join(out).rstrip()


# ----- interactive use (tools/run.sh) ------------------------------------------------------

QUIT_KEY = b"\x1d"  # Ctrl-]


def run_interactive(machine):
    """Connects this terminal to the machine's console until Ctrl-] or the machine ends."""
    import select
    import termios
    import tty

    machine.start()
    stdin = sys.stdin.fileno()
    is_tty = os.isatty(stdin)
    saved = termios.tcgetattr(stdin) if is_tty else None
    shown = 0
    stdin_open = True
    try:
        if is_tty:
            tty.setraw(stdin)
        while machine.running() or not machine._eof:
            with machine._cond:
                text = machine._buf[shown:]
                shown = len(machine._buf)
                eof = machine._eof
            if text:
                os.write(sys.stdout.fileno(), text.replace("\n", "\r\n" if is_tty else "\n")
                         .encode("utf-8", "replace"))
            if eof:
                break
            readable = select.select([stdin] if stdin_open else [], [], [], 0.05)[0]
            if readable:
                data = os.read(stdin, 1024)
                if not data:
                    stdin_open = False
                elif QUIT_KEY in data:
                    machine.send(data[:data.index(QUIT_KEY)])
                    break
                else:
                    machine.send(data)
    finally:
        if is_tty:
            termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
        machine.close()
    print(f"\n[run: {machine.emulator} stopped; console log in {machine.log_path}]")


def main():
    ap = argparse.ArgumentParser(
        description="Boot Sidecore in an emulator with its console on this terminal "
                    "(Ctrl-] quits).")
    ap.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu")
    ap.add_argument("--firmware", choices=["bios", "ovmf"], default="bios")
    ap.add_argument("--media", choices=["iso", "usb", "pxe"], default="iso")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--memory", type=int, default=1024, help="MiB")
    ap.add_argument("--kvm", action="store_true", help="QEMU with -enable-kvm -cpu host")
    ap.add_argument("--bochs", default=None,
                    help="stock (Debian's 2.7), own (`make bochs`) or a path "
                         "(default: $SIDECORE_BOCHS, else %s)" % DEFAULT_BOCHS)
    ap.add_argument("--print-command", action="store_true",
                    help="print the emulator command (and bochsrc) and exit")
    ap.add_argument("extra", nargs="*", help="extra QEMU arguments / bochsrc lines (after --)")
    a = ap.parse_args()
    m = Machine("run", emulator=a.emulator, firmware=a.firmware, media=a.media, smp=a.smp,
                memory=a.memory, reboot=True, accel="kvm" if a.kvm else "tcg",
                extra_args=a.extra, timeout=10 ** 7, bochs=a.bochs)
    if a.print_command:
        m._workdir = Path(tempfile.mkdtemp(prefix="sidecore-"))
        try:
            if a.emulator == "qemu":
                print(shlex.join(m.qemu_command("stdio")))
            else:
                print(shlex.join(m.bochs_command(12345)))
                print(m.bochsrc(12345), end="")
        finally:
            shutil.rmtree(m._workdir)
        return 0
    # SIGTERM/SIGHUP end the run like Ctrl-]: the emulator is killed, the log completed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    try:
        run_interactive(m)
    except KeyboardInterrupt:  # stdin not a terminal: Ctrl-C is a signal, not a key
        pass
    except BrokenPipeError:  # our output was closed (e.g. piped into head)
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
