# SPDX-License-Identifier: MIT
"""Adaptive interrupt coalescing of virtio-net queues (vmm/sidecore/net_coalesce.h)
with stock Linux guests under QEMU/SVM (guest-tests/linux/net-coalesce.cfg): two
guests on one switch polled by one I/O sidecore, net-a with
interrupt_coalescing = adaptive, net-b with off, in the same run. net-b pings
net-a (100 back-to-back pings of 56 and of 1400 data bytes), then sends it 4 MiB
over TCP (md5 equal on both sides).

The thresholds are lowered for an emulator (coalesce_net_rate = 200 packets a
second, 50 ms epochs). `stats` must then show on net-a's queue pair that the
policy stepped down and held interrupts, and fewer than one RX interrupt per
packet; on net-b's that nothing was ever held (ratios 1000). A second run with
both guests off is the baseline (nothing held anywhere). The ping times and the
counters are printed (-s) for comparison between the two runs; they are not
asserted against each other, as an emulator on a loaded host makes them noisy.
Four emulated CPUs: the boot CPU, two guest cores, the sidecore; about two
minutes a run."""

import re

import pytest

from scenarios import GUEST_LINE_RE, fields, fresh_command, image_for
from test_linux import LINE, LinuxRun, linux_dir
from test_svm import LINUX_BOOT_S, SVM_CPU

GUESTS = ("net-a", "net-b")
KIB = 1024
SIZE = 4096 * KIB


def netq(text):
    """`stats` output -> {guest: netq fields of queue pair 0}."""
    out = {}
    for line in GUEST_LINE_RE.sub("", text).splitlines():
        if line.startswith("netq guest="):
            f = fields(line)
            if f["queue"] == 0:
                out[f["guest"]] = f
    return out


def guest_line(run, guest, key, timeout):
    m = run.wait(rf"^\[{re.escape(guest)}\] {LINE}{key}=[^\n]*\n", timeout,
                 f"'[{guest}] {LINE}{key}=' line")
    return fields(m[0].split(LINE, 1)[1])


def boot_and_transfer(machine, cfg, name):
    """Boots cfg, checks the pings and the transfer; returns ({guest: netq}, [burst lines])."""
    m = machine(image=image_for(name, cfg), emulator="qemu", accel="tcg", smp=4, memory=1024,
                timeout=2 * LINUX_BOOT_S + 1140, extra_args=SVM_CPU)
    run = LinuxRun(m, cfg, {g: r"power-off" for g in GUESTS}, silence_s=LINUX_BOOT_S)
    for g in GUESTS:
        run.check_report(g, run.report(g, LINUX_BOOT_S), 1)
    for g in GUESTS:
        ping = guest_line(run, g, "net_ping", 600)
        assert ping["net_ping"] == "ok", f"{g}: {ping}"
    bursts = [guest_line(run, "net-b", f"net_bench size={size} pings", 600) for size in (56, 1400)]
    for b in bursts:
        assert b["pings"] == 100, b
        print(f"ping-pong size={b['size']}: {b['seconds']} s for 100 "
              f"({float(b['seconds']) * 10:.2f} ms each)")
    sent = guest_line(run, "net-b", "net_sent_bytes", 900)
    got = guest_line(run, "net-a", "net_recv_bytes", 900)
    assert sent["net_sent_bytes"] == SIZE, sent
    assert got["net_recv_bytes"] == SIZE and got["net_recv_md5"] == sent["net_sent_md5"], \
        (sent, got)
    for g in GUESTS:
        run.wait(rf"^sidecore: guest {g} stopped: power-off.*$", 300,
                 f"'sidecore: guest {g} stopped: power-off'")
    q = netq(fresh_command(m, "stats"))
    for g in GUESTS:
        print(f"{g}:", {k: v for k, v in q[g].items()
                        if "interrupt" in k or "coalesce" in k or k.endswith("packets")})
    assert q["net-a"]["rx_bytes"] > SIZE and q["net-b"]["tx_bytes"] > SIZE, q
    return q, bursts


def assert_never_held(f):
    assert f["coalesce_held"] == 0 and f["coalesce_steps_down"] == 0, f
    assert f["rx_coalesce_r"] == 1000 and f["tx_coalesce_r"] == 1000, f
    assert f["interrupts"] > 0, f


@pytest.mark.timeout(2 * LINUX_BOOT_S + 1200)
def test_svm_net_adaptive_coalescing(machine):
    """net-a adaptive, net-b off: on net-a's stream the policy steps down and
    holds interrupts (fewer than one RX interrupt per packet); on net-b nothing
    is ever held."""
    q, _ = boot_and_transfer(machine, linux_dir() / "net-coalesce.cfg", "linux-net-coalesce")
    a, b = q["net-a"], q["net-b"]
    assert a["coalesce_steps_down"] > 0 and a["coalesce_held"] > 0, a
    assert a["rx_interrupts_per_packet"] < 1000, a
    assert_never_held(b)


@pytest.mark.timeout(2 * LINUX_BOOT_S + 1200)
def test_svm_net_coalescing_off_baseline(machine):
    """The same run with net-a off too: nothing held on either guest (the
    baseline the adaptive run's counters and ping times compare with)."""
    cfg = linux_dir() / "net-coalesce-off-run.cfg"
    text = (linux_dir() / "net-coalesce.cfg").read_text()
    cfg.write_text(text.replace("interrupt_coalescing = adaptive", "interrupt_coalescing = off"))
    q, _ = boot_and_transfer(machine, cfg, "linux-net-coalesce-off")
    for g in GUESTS:
        assert_never_held(q[g])
