# SPDX-License-Identifier: MIT
"""Stress and evidence for interrupt delivery under QEMU's TCG (issue 18).

VcpuKicker stops and continues the machine over QMP every few milliseconds:
each stop kicks every vCPU thread out of its translated code, which is how an
interrupt QEMU had delivered inside VMRUN (EVENTINJ) was delivered a second
time whatever RFLAGS.IF said. interrupts_with_if_clear() reads QEMU's
`-d int` log and lists every delivery of a vector 0x20 or above (an external
or virtual interrupt, never an exception or INTn) to a CPU whose RFLAGS.IF
was clear: on x86 there is none, so any is the bug's signature."""
import json
import re
import socket
import threading
import time

_INT_RE = re.compile(r"^\s*\d+: v=([0-9a-f]+) e=[0-9a-f]+ i=(\d) cpl=\d IP=\S+", re.M)
_RFL_RE = re.compile(r"RFL=([0-9a-f]+)")


class VcpuKicker:
    """Context manager: QMP stop/cont at `unix_path` every period_s until exit."""

    def __init__(self, unix_path, period_s=0.002):
        self.path = str(unix_path)
        self.period_s = period_s
        self.cycles = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _run(self):
        deadline = time.monotonic() + 60
        while True:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.path)
                break
            except OSError:
                s.close()
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                time.sleep(0.1)
        with s, s.makefile("rw") as f:
            f.readline()  # the greeting

            def execute(command):
                f.write(json.dumps({"execute": command}) + "\n")
                f.flush()
                while True:  # skip events (STOP, RESUME) up to the answer
                    line = f.readline()
                    if not line:
                        raise EOFError
                    if any(k in json.loads(line) for k in ("return", "error")):
                        return

            try:
                execute("qmp_capabilities")
                while not self._stop.is_set():
                    execute("stop")
                    execute("cont")
                    self.cycles += 1
                    time.sleep(self.period_s)
            except (OSError, EOFError, ValueError):
                return  # QEMU has gone (power-off, end of test)


def interrupts_with_if_clear(int_log):
    """The `-d int` lines delivering a vector >= 0x20 to a CPU with RFLAGS.IF clear."""
    text = open(int_log, encoding="utf-8", errors="replace").read()
    bad = []
    for m in _INT_RE.finditer(text):
        if int(m[1], 16) < 0x20 or m[2] != "0":
            continue
        rfl = _RFL_RE.search(text, m.end(), m.end() + 600)
        if rfl and not int(rfl[1], 16) & 0x200:
            bad.append(f"{m[0].strip()} RFL={rfl[1]}")
    return bad
