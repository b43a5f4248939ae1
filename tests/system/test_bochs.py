# SPDX-License-Identifier: MIT
"""Bochs with the VT-x CPU model (corei7_skylake_x), two CPUs, the ISO: the only
emulator here with VT-x, so the hypervisor's VMX paths are tested only in it.
One boot is shared by this module's tests (Bochs is slow)."""

import pytest

from formats import parse_cpus
from machine import module_machine


@pytest.fixture(scope="module")
def bochs(request):
    with module_machine(request, emulator="bochs", smp=2, memory=512, timeout=400) as m:
        yield m


@pytest.fixture(scope="module")
def bochs_ready(bochs):
    path = bochs.boot_path(timeout=180)
    return path, bochs.wait_ready(timeout=240)


def test_bochs_iso_boots_to_ready(bochs_ready):
    path, ready = bochs_ready
    assert path == "multiboot2/BIOS"
    assert ready["sockets"] >= 1, ready


def test_bochs_two_cpus_online(bochs, bochs_ready):
    _, ready = bochs_ready
    assert ready["cpus"] == 2, f"ready line: {ready}; the machine has 2 CPUs"
    rows = parse_cpus(bochs.command("cpus", timeout=60))
    assert [r["index"] for r in rows] == [0, 1], rows
    assert all(r["state"] == "online" for r in rows), rows
