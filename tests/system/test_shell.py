# SPDX-License-Identifier: MIT
"""The operator's shell on the serial console (QEMU q35, SeaBIOS, the ISO).
One boot serves the module's tests, except reboot, which needs its own."""

import re
import time

import pytest

from formats import parse_uptime
from machine import START_RE, module_machine

COMMANDS = ["help", "cpus", "mem", "pci", "uptime", "reboot"]


@pytest.fixture(scope="module")
def shell(request):
    with module_machine(request, media="iso", smp=2, memory=512) as m:
        m.wait_ready()
        yield m


def lines(output):
    return [l for l in output.splitlines() if l.strip()]


def check_help(output):
    for name in COMMANDS:
        assert re.search(rf"(^|\s){name}\b", output, re.M), \
            f"`help` does not list {name!r}:\n{output}"
    assert "unknown command" not in output, output


def test_help_lists_commands(shell):
    check_help(shell.command("help"))


def test_unknown_command(shell):
    out = lines(shell.command("frobnicate"))
    assert len(out) == 1 and "unknown command" in out[0], \
        f"expected one line saying `unknown command`, got {out}"


def test_bad_argument_answers_one_line(shell):
    # cpus takes no argument that could look like this; the answer is one line
    # saying what was wrong, not the table.
    out = lines(shell.command("cpus no-such-argument"))
    assert len(out) == 1, f"expected one line about the bad argument, got {out}"
    assert "CPU  APIC" not in out[0], out
    check_help(shell.command("help"))  # the shell still works


def test_backspace_edits_the_line(shell):
    out = shell.command("help", keys=b"hepl\x7f\x7flp\r")
    check_help(out)


def test_uptime_advances(shell):
    first = parse_uptime(shell.command("uptime"))
    time.sleep(1.2)
    second = parse_uptime(shell.command("uptime"))
    assert second > first, f"uptime did not advance: {first} then {second}"
    assert second - first < 30, f"uptime jumped from {first} to {second} in about a second"


def test_pci_lists_q35_host_bridge(shell):
    out = shell.command("pci")
    assert re.search(r"8086:29c0", out, re.I), f"q35 host bridge 8086:29c0 not in `pci`:\n{out}"


def test_reboot_restarts_the_machine(machine):
    m = machine(media="iso", smp=1, memory=512, reboot=True)
    m.wait_ready()
    m.wait_prompt()
    m.send_line("reboot")
    m.expect(START_RE, timeout=90)  # the hypervisor starts a second time
    m.wait_ready()
    assert len(re.findall(START_RE, m.log)) == 2, "expected exactly one restart"


STATS_AT_RE = re.compile(r"^stats at=(\d+)\.(\d{3})\s*$", re.M)


def test_stats_watch_repeats_until_a_key(shell):
    shell.skip_output()
    shell.send_line("")  # a fresh prompt, whichever test ran before
    shell.wait_prompt()
    start = len(shell.log)
    shell.send_line("stats watch 1")
    # Three blocks a second apart by the hypervisor's clock: the command runs
    # from the console CPU's idle loop, so it neither returns nor blocks.
    for _ in range(3):
        shell.expect(STATS_AT_RE, timeout=30, what="a 'stats at=SECONDS' line")
    shell.send("q")
    shell.expect(r"stats watch: stopped", timeout=30)
    shell.wait_prompt()
    out = shell.log[start:]
    stamps = [int(s) + int(ms) / 1000 for s, ms in STATS_AT_RE.findall(out)]
    assert len(stamps) >= 3, out
    # On a 1 s grid from the first block: block i never comes before i s after
    # it (a round can be late or, under load, skipped, never early or bunched).
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert all(t - stamps[0] >= i - 0.002 for i, t in enumerate(stamps)), \
        f"stats watch 1 printed at {stamps}"
    assert all(g <= 10 for g in gaps), f"stats watch 1 printed at {stamps}"
    # Each block carries the stats (here, without VT-x in the emulator, the
    # line saying there are no guests).
    after_first = out[out.index("stats at="):]
    assert "stats: no guests" in after_first or "guest=" in after_first, out
    # Stopped: nothing more is printed, and the shell answers again.
    time.sleep(1.5)
    later = len(STATS_AT_RE.findall(shell.log[start:]))
    assert later == len(stamps), "stats watch went on after the key"
    check_help(shell.command("help"))


@pytest.mark.parametrize("arg", ["0", "3601", "x", "1 2"])
def test_stats_watch_bad_seconds_answers_one_line(shell, arg):
    out = lines(shell.command(f"stats watch {arg}"))
    assert len(out) == 1 and "stats" in out[0], f"expected one line, got {out}"
    assert "stats at=" not in out[0], out
