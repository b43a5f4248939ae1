# SPDX-License-Identifier: MIT
"""The NIC drivers under QEMU 10 (TCG, q35, SeaBIOS, the ISO) with QEMU's 82576
model (`-device igb`, QEMU 8.0 and later): Sidecore finds it on PCI, resets and
brings it up, and `nic` lists it with the MAC given on QEMU's command line, the
link up at 1000 Mb/s and one queue pair; two NICs are listed in PCI order;
without a NIC `nic` says so. The 82599 has no QEMU model: its driver is tested
only on the host, against tests/unit/nic_model.c.

`nic` prints one line per NIC:
  nic0 pci=0000:00:03.0 chip=82576 mac=52:54:00:12:34:56 link=up speed=1000 queues=1
       rx_packets=0 rx_bytes=0 tx_packets=0 tx_bytes=0 rx_drops=0 rx_errors=0 tx_drops=0
(one line)."""

import re
import subprocess

import pytest

NIC_RE = re.compile(r"^nic(\d+) pci=(\S+) chip=(\S+) mac=(\S+) link=(up|down) speed=(\d+) "
                    r"queues=(\d+) rx_packets=(\d+) rx_bytes=(\d+) tx_packets=(\d+) "
                    r"tx_bytes=(\d+) rx_drops=(\d+) rx_errors=(\d+) tx_drops=(\d+)$", re.M)


def qemu_has_igb():
    try:
        out = subprocess.run(["qemu-system-x86_64", "-device", "help"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return '"igb"' in out


pytestmark = pytest.mark.skipif(not qemu_has_igb(),
                                reason="this QEMU has no igb (QEMU 8.0 or later needed; "
                                       "tools/install-deps.sh installs QEMU 10 from backports)")


def parse_nic(output):
    nics = {}
    for m in NIC_RE.finditer(output):
        nics[int(m[1])] = {"pci": m[2], "chip": m[3], "mac": m[4], "link": m[5],
                           "speed": int(m[6]), "queues": int(m[7])}
    return nics


def igb(mac, ident, addr=None):
    """A user-mode netdev and an igb on it. QEMU's igb reserves PCI slots for its SR-IOV
    virtual functions (16 slots above its own), so two of them need slots apart."""
    where = f",addr={addr}" if addr else ""
    return ["-netdev", f"user,id={ident}", "-device", f"igb,netdev={ident},mac={mac}{where}"]


def test_igb_listed_with_mac_and_link(machine):
    mac = "52:54:00:5c:01:23"
    m = machine(media="iso", smp=2, memory=512, extra_args=igb(mac, "n0"))
    m.wait_ready()
    out = m.command("nic")
    nics = parse_nic(out)
    assert list(nics) == [0], f"`nic` should list one NIC:\n{out}"
    n = nics[0]
    assert n["chip"] == "82576" and n["mac"] == mac, n
    assert n["link"] == "up" and n["speed"] == 1000, n
    assert n["queues"] == 1, n
    assert re.search(r"nic0: \S+ Intel 82576, MAC " + mac + r", 1 queue pairs, link up", m.log), \
        "boot log has no nic0 line with the MAC and link up"


def test_two_igbs_in_pci_order(machine):
    macs = ["52:54:00:5c:02:01", "52:54:00:5c:02:02"]
    m = machine(media="iso", smp=2, memory=512,
                extra_args=igb(macs[0], "n0", "0x3") + igb(macs[1], "n1", "0x6"))
    m.wait_ready()
    out = m.command("nic")
    nics = parse_nic(out)
    assert sorted(nics) == [0, 1], f"`nic` should list two NICs:\n{out}"
    assert [nics[i]["mac"] for i in (0, 1)] == macs, out
    assert nics[0]["pci"] < nics[1]["pci"], out
    assert all(n["link"] == "up" for n in nics.values()), out


def test_no_nic(machine):
    m = machine(media="iso", smp=1, memory=256)
    m.wait_ready()
    out = m.command("nic")
    assert "no NICs" in out and not parse_nic(out), out
