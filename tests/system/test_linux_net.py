# SPDX-License-Identifier: MIT
"""Virtio-net between two Linux guests on one switch, in Bochs: the stock
kernel's virtio_net driver against Sidecore's virtio-net device and L2 switch,
in both I/O modes, one Bochs run each (guest-tests/linux/net-sc.cfg,
net-trap.cfg): in net-sc one I/O sidecore polls the switch and every queue on
it (io = sidecore), in net-trap the notifying vCPU polls the switch under its
lock (io = trap).

Each guest's /init (tools/linux-guest/init, sidecore.test=net) gives eth0 its
static address (10.0.0.1 and .2, which exist only inside the switch), pings the
other until it answers, and then net-b sends net-a 1 MiB of random data over TCP
with busybox nc; both print the md5 of what they sent or received, then power
off. `stats` must then show the packets on both devices and on both switch
ports, no notification exit for net-sc, and notification exits (kicks) for
net-trap.

Four emulated CPUs for net-sc (boot CPU, two guests, the sidecore), three for
net-trap: about 10 minutes each on this machine; `make test-linux-net` runs
both (they are also part of `make system`)."""

import re

import pytest

from scenarios import GUEST_LINE_RE, fields, fresh_command, image_for, parse_stats
from test_linux import BOOT_S, LINE, LinuxRun, linux_dir

GUESTS = ("net-a", "net-b")
KIB = 1024


def net_stats(text):
    """`stats` output -> ({guest: net fields}, {(guest, queue): netq fields},
    {(switch, port): switchport fields}, [switch fields], [sidecore fields])."""
    nets, queues, ports, switches, cores = {}, {}, {}, [], []
    for line in GUEST_LINE_RE.sub("", text).splitlines():
        f = fields(line)
        if line.startswith("net guest="):
            nets.setdefault(f["guest"], f)
        elif line.startswith("netq guest="):
            queues[(f["guest"], f["queue"])] = f
        elif line.startswith("switchport switch="):
            ports[(f["switch"], f["name"])] = f
        elif line.startswith("switch name="):
            switches.append(f)
        elif line.startswith("sidecore="):
            cores.append(f)
    return nets, queues, ports, switches, cores


def guest_line(run, guest, key, timeout):
    m = run.wait(rf"^\[{re.escape(guest)}\] {LINE}{key}=[^\n]*\n", timeout,
                 f"'[{guest}] {LINE}{key}=' line")
    return fields(m[0].split(LINE, 1)[1])


def boot_and_check(machine, scenario, mode, cpus):
    """Boots the scenario (two 1-vCPU guests on switch lan), checks what both
    /inits report, and returns the parsed `stats` after both powered off."""
    cfg = linux_dir() / f"{scenario}.cfg"
    m = machine(image=image_for(f"linux-{scenario}", cfg), emulator="bochs", smp=cpus,
                memory=512, timeout=BOOT_S[2] + 1140)
    run = LinuxRun(m, cfg, {g: r"power-off" for g in GUESTS})
    for g in GUESTS:
        run.check_report(g, run.report(g, BOOT_S[2]), 1)
    macs = {}
    for g in GUESTS:
        net = guest_line(run, g, "net", 300)
        assert net.get("net") == "eth0", f"{g}: no virtio-net device: {net}"
        assert net["queues"] == 1, net
        macs[g] = net["mac"]
    assert macs["net-a"] != macs["net-b"], macs
    for g in GUESTS:
        ping = guest_line(run, g, "net_ping", 600)
        assert ping["net_ping"] == "ok", f"{g}: {ping}"
    sent = guest_line(run, "net-b", "net_sent_bytes", 600)
    got = guest_line(run, "net-a", "net_recv_bytes", 600)
    assert sent["net_sent_bytes"] == KIB * KIB, sent
    assert got["net_recv_bytes"] == sent["net_sent_bytes"], (sent, got)
    assert got["net_recv_md5"] == sent["net_sent_md5"], (sent, got)
    for g in GUESTS:
        run.wait(rf"^sidecore: guest {g} stopped: power-off.*$", 300,
                 f"'sidecore: guest {g} stopped: power-off'")
    text = fresh_command(m, "stats")
    nets, queues, ports, switches, cores = net_stats(text)
    for g in GUESTS:
        n = nets[g]
        assert n["io"] == mode and n["state"] == "ok" and n["switch"] == "lan", n
        assert n["mac"] == macs[g], (n, macs)
        assert n["msi"] > 0, f"{g}: no interrupts delivered: {n}"
        q = queues[(g, 0)]
        # The megabyte went one way, its ACKs the other; pings both ways.
        assert q["rx_packets"] > 0 and q["tx_packets"] > 0 and q["interrupts"] > 0, q
        assert q["rx_drops"] == 0 or q["rx_packets"] > q["rx_drops"], q
    assert queues[("net-b", 0)]["tx_bytes"] > KIB * KIB, queues[("net-b", 0)]
    assert queues[("net-a", 0)]["rx_bytes"] > KIB * KIB, queues[("net-a", 0)]
    assert len(switches) == 1 and switches[0]["name"] == "lan" and switches[0]["ports"] == 2, \
        switches
    for g in GUESTS:
        p = ports[("lan", f"{g}/net0")]
        assert p["rx"] > 0 and p["tx"] > 0, p
    return nets, queues, switches[0], cores, text


@pytest.mark.timeout(BOOT_S[2] + 1200)
def test_linux_net_served_by_the_sidecore(machine):
    """io = sidecore: the guests ping each other and move 1 MiB over TCP intact;
    `stats` counts the packets, no notification ever exits, and one sidecore
    polls the switch (one queue: the switch, not each device's queues)."""
    # The boot CPU, 2 guest cores and the I/O sidecore.
    nets, queues, switch, cores, _ = boot_and_check(machine, "net-sc", "sidecore", 4)
    for g in GUESTS:
        assert nets[g]["notify_exits"] == 0, nets[g]
        assert queues[(g, 0)]["kicks"] == 0, queues[(g, 0)]
    assert switch["io"] == "sidecore" and switch["busy_polls"] > 0 and switch["trap_polls"] == 0, \
        switch
    assert len(cores) == 1 and cores[0]["queues"] == 1, cores


@pytest.mark.timeout(BOOT_S[2] + 1200)
def test_linux_net_trapped_baseline(machine):
    """io = trap: the same pair passes the same test; `stats` shows notification
    exits (kicks), the vCPUs polling the switch, and no sidecore at all."""
    nets, queues, switch, cores, text = boot_and_check(machine, "net-trap", "trap", 3)
    for g in GUESTS:
        assert nets[g]["notify_exits"] > 0, nets[g]
        assert queues[(g, 0)]["kicks"] > 0, queues[(g, 0)]
    assert switch["io"] == "trap" and switch["trap_polls"] > 0, switch
    # Each kick is one of the vCPUs' MMIO (EPT violation) exits.
    mmio_exits = sum(v.get("exit_ept_violation", 0) for v in parse_stats(text).values())
    kicks = sum(nets[g]["notify_exits"] for g in GUESTS)
    assert 0 < kicks <= mmio_exits, (kicks, mmio_exits)
    assert cores == [], cores
