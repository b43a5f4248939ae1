# SPDX-License-Identifier: MIT
"""The I/O-core monitor (IOcm) in the running hypervisor, under QEMU's TCG with
AMD-V (the sidecores and the monitor are the same code under VT-x; SVM is much
faster to emulate than Bochs). Scenario guest-tests/configs/iocm.cfg: one
sidecore active, a second reserved and parked; one guest loads its disk with
verified write/read cycles, two more join, then the load stops. The monitor must
add the parked sidecore and spread the three queues over both, then park one
again; every guest's verified cycles pass throughout.

The shell test (test_iocm_shell_*) drives `sidecore add/move/remove/policy`
under the same verified load, with the monitor set to manual."""

import re
import time

from scenarios import assert_guest_passed, fresh_command, guest_test_image, wait_for_all

SVM_CPU = ["-cpu", "EPYC,+svm,+npt"]
QEMU_SVM6 = dict(emulator="qemu", accel="tcg", smp=6, memory=512, timeout=300,
                 extra_args=SVM_CPU)
GUESTS = ("load-a", "load-b", "load-c")

CORE_RE = re.compile(r"^sidecore=(\d+) cpu=\d+ socket=(\d+) state=(\S+) busy_pct=(\d+) "
                     r"queues=(\d+)", re.M)
QUEUE_RE = re.compile(r"^  queue=(\S+) sidecore=(\d+) socket=\d+ load_per_s=(\d+) moves=(\d+)",
                      re.M)


def sidecores(text):
    """`sidecore` output -> ({core: (state, busy_pct, nqueues)}, {queue: (core, load, moves)})."""
    cores = {int(m[1]): (m[3], int(m[4]), int(m[5])) for m in CORE_RE.finditer(text)}
    queues = {m[1]: (int(m[2]), int(m[3]), int(m[4])) for m in QUEUE_RE.finditer(text)}
    return cores, queues


def stopped(guest):
    return f"sidecore: guest {guest} stopped:"


def snapshot(m):
    out = fresh_command(m, "sidecore", timeout=60)
    print(out)
    return sidecores(out)


def test_iocm_follows_the_load(machine):
    m = machine(image=guest_test_image("iocm"), **QEMU_SVM6)
    m.expect(r"sidecore: ready", timeout=240)
    assert re.search(r"sidecore 1: CPU \d+, socket \d+ \(reserved, parked\)", m.log)
    m.expect(r"\[load-a\] vblk: cycling for", timeout=240)
    cores, queues = snapshot(m)
    assert cores[1][0] == "parked", cores
    assert set(q for q, _ in queues.items()) == {f"{g}:disk0:0" for g in GUESTS}, queues
    # Two more guests join: the monitor adds the parked sidecore and spreads.
    wait_for_all(m, ["[load-b] vblk: cycling for", "[load-c] vblk: cycling for"], timeout=240)
    m.expect(r"sidecore monitor: sidecore 1 \(CPU \d+, socket \d+\) active: [^\n]*\n", timeout=120)
    m.expect(r"sidecore monitor: queue load-\S+ disk0 q0: sidecore 0 -> 1 \(spread by load",
             timeout=60)
    time.sleep(2)
    cores, queues = snapshot(m)
    assert cores[0][0] == "polling" and cores[1][0] == "polling", cores
    on = {q: c for q, (c, _, _) in queues.items()}
    assert set(on.values()) == {0, 1}, on
    # The load stops: one sidecore is parked again.
    wait_for_all(m, [stopped(g) for g in GUESTS], timeout=240)
    m.expect(r"sidecore monitor: sidecore \d \(CPU \d+, socket \d+\) parked: [^\n]*\n", timeout=120)
    time.sleep(2)
    cores, queues = snapshot(m)
    states = sorted(s for s, _, _ in cores.values())
    assert states == ["parked", "polling"], cores
    for g in GUESTS:
        assert_guest_passed(m.log, g)
        assert not re.search(rf"sidecore: guest {g}: disk \d+ broken", m.log)
