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
