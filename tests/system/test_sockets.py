# SPDX-License-Identifier: MIT
"""A machine with two sockets (issue 16): one I/O sidecore per socket, and each
guest's virtio-blk queues served by the sidecore of the socket its vCPUs run on.

QEMU/SVM (TCG), -smp 6,sockets=2,cores=3 (machine.py's sockets option), the
guest-tests scenario "sockets" (guest-tests/configs/sockets.cfg): three guests
running the verified virtio-blk test guest (vblk-good), one on socket 0 and two on
socket 1. What VT-x would add here is nothing socket-specific, so this runs where
it is fast; the Bochs machines share the same topology code (machine.py builds
`cpu: count=SOCKETS:CORES:1` for them)."""

import re

from formats import parse_cpus
from scenarios import (assert_guest_passed, disk_stats, fresh_command, guest_test_image,
                       parse_stats, wait_for_all)
from test_svm import QEMU_SVM

GUESTS = {"sock0-a": 0, "sock1-a": 1, "sock1-b": 1}  # guest: the socket of its vCPU


def test_two_sockets_one_sidecore_each_and_queues_stay_on_their_socket(machine):
    m = machine(image=guest_test_image("sockets"),
                **dict(QEMU_SVM, smp=6, sockets=2, memory=512, timeout=400))
    ready = m.wait_ready(timeout=240)
    assert (ready["cpus"], ready["sockets"]) == (6, 2), ready
    # The guests print meanwhile: their lines ("[NAME] ...") are not rows.
    out = "\n".join(l for l in m.command("cpus", timeout=120).splitlines()
                    if not l.startswith(("[", "sidecore")))
    socket_of = {r["index"]: r["socket"] for r in parse_cpus(out)}
    assert socket_of == {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1}, socket_of
    wait_for_all(m, [f"sidecore: guest {g} stopped:" for g in GUESTS], timeout=300)
    log = m.log
    for g in GUESTS:
        assert_guest_passed(log, g)

    # Boot log: one sidecore per socket, each on its own socket's last core.
    booted = {int(s): (int(c), int(k)) for s, c, k in
              re.findall(r"sidecore (\d+): CPU (\d+), socket (\d+)", log)}
    assert sorted(booted.values()) == [(2, 0), (5, 1)], booted
    polling = {int(c): int(n) for n, c in
               re.findall(r"sidecore \d+: polling (\d+) queue\(s\) on CPU (\d+)", log)}
    assert polling == {2: 1, 5: 2}, polling

    text = fresh_command(m, "stats")
    vcpus = parse_stats(text)
    _, queues, cores = disk_stats(text)
    by_socket = {c["socket"]: c for c in cores}
    assert len(cores) == 2 and set(by_socket) == {0, 1}, cores
    for s, c in by_socket.items():
        assert socket_of[c["cpu"]] == s, c
    for g, s in GUESTS.items():
        cpu = vcpus[(g, 0)]["cpu"]
        assert socket_of[cpu] == s, f"{g} runs on CPU {cpu}, socket {socket_of[cpu]}"
        q = queues[(g, 0)]
        assert q["requests"] > 0 and q["errors"] == 0, q
    # Each queue went to its guest's socket: one on socket 0's sidecore, two on
    # socket 1's (by load alone the third queue would have joined socket 0's),
    # and both sidecores polled work.
    assert by_socket[0]["queues"] == 1 and by_socket[1]["queues"] == 2, cores
    assert all(c["busy_rounds"] > 0 for c in cores), cores
