# SPDX-License-Identifier: MIT
"""The NIC drivers under QEMU 10 (TCG, q35, SeaBIOS, the ISO) with QEMU's 82576
model (`-device igb`, QEMU 8.0 and later): Sidecore finds it on PCI, resets and
brings it up, and `nic` lists it with the MAC given on QEMU's command line, the
link up at 1000 Mb/s and one queue pair; two NICs are listed in PCI order;
without a NIC `nic` says so. `nettest` sends frames through the igb, over QEMU's
UDP socket backend, to an echo peer the test runs; the run must pass, and the
frames the peer got must be exactly the ones nettest builds. The 82599 has no QEMU model: its driver is tested
only on the host, against tests/unit/nic_model.c.

`nic` prints one line per NIC:
  nic0 pci=0000:00:03.0 chip=82576 mac=52:54:00:12:34:56 link=up speed=1000 queues=1
       rx_packets=0 rx_bytes=0 tx_packets=0 tx_bytes=0 rx_drops=0 rx_errors=0 tx_drops=0
(one line)."""

import re
import socket
import struct
import subprocess
import threading

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


class EchoPeer:
    """The far end of QEMU's `-netdev socket,udp=...`: one UDP datagram per Ethernet frame.
    Sends every frame back with the two MAC addresses swapped, and keeps what it got."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.frames = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.frames.append(data)
            if len(data) >= 14:
                self.sock.sendto(data[6:12] + data[0:6] + data[12:], addr)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PEER_MAC = bytes.fromhex("02005ceeee01")


def nettest_payload(seq, length):
    return bytes((seq * 131 + i * 7 + (seq >> 8) + 0x5A) & 0xFF for i in range(24, length))


def check_peer_frames(frames, nic_mac, count, length):
    """Every frame the peer got is one nettest sent, in order, byte for byte."""
    mac = bytes.fromhex(nic_mac.replace(":", ""))
    got = [f for f in frames if f[12:14] == b"\x88\xb5"]
    assert len(got) == count, f"the peer got {len(got)} nettest frames, not {count}"
    for seq, f in enumerate(got):
        want = (PEER_MAC + mac + b"\x88\xb5SCNT" + struct.pack("<IH", seq, length)
                + nettest_payload(seq, length))
        assert f == want, f"frame {seq} as the peer got it differs from what nettest builds"


QUEUE_RE = re.compile(r"^  nic0q0 rx_packets=(?P<rx>\d+) .* tx_packets=(?P<tx>\d+) .* "
                      r"tail_writes=(?P<tails>\d+)$", re.M)
RESULT_RE = re.compile(r"^nettest: result=(pass|fail) frames=(\d+) pps=(\d+) "
                       r"mean_us=([\d.]+) p99_us=([\d.]+)$", re.M)


@pytest.mark.parametrize("size,burst", [(60, 1), (1514, 16)])
def test_nettest_through_igb_to_echo_peer(machine, size, burst):
    peer = EchoPeer()
    try:
        local = free_udp_port()
        mac = "52:54:00:5c:03:01"
        m = machine(media="iso", smp=2, memory=512, extra_args=[
            "-netdev", f"socket,id=n0,udp=127.0.0.1:{peer.port},localaddr=127.0.0.1:{local}",
            "-device", f"igb,netdev=n0,mac={mac}"])
        m.wait_ready()
        count = 200
        out = m.command(f"nettest 0 count={count} size={size} burst={burst}", timeout=180)
        r = RESULT_RE.search(out)
        assert r, f"no nettest result line:\n{out}"
        assert r[1] == "pass" and int(r[2]) == count, out
        assert int(r[3]) > 0, out
        check_peer_frames(peer.frames, mac, count, size)
        # The chip's counters saw them too; a second run on the same buffers passes.
        out = m.command("nettest 0 count=50")
        assert RESULT_RE.search(out)[1] == "pass", out
        out = m.command("nic -v")
        nic = NIC_RE.search(out)
        assert int(nic[8]) >= count + 50 and int(nic[10]) >= count + 50, nic[0]
        q = QUEUE_RE.search(out)
        assert q, f"`nic -v` has no queue line:\n{out}"
        assert int(q["rx"]) == int(q["tx"]) == count + 50, q[0]
        # One TX tail write per burst plus one RX refill per poll that found frames: with
        # bursts of 16 there are far fewer tail writes than frames.
        if burst > 1:
            assert int(q["tails"]) < 2 * (count + 50), q[0]
    finally:
        peer.close()


def test_nettest_without_peer_fails_cleanly(machine):
    m = machine(media="iso", smp=2, memory=512, extra_args=igb("52:54:00:5c:04:01", "n0"))
    m.wait_ready()
    out = m.command("nettest 0 count=5", timeout=60)
    r = RESULT_RE.search(out)
    assert r and r[1] == "fail", out
    assert "did not come back within 2000 ms" in out, out
    assert "nettest: result=fail" in m.command("nettest 7")  # no such NIC
    assert parse_nic(m.command("nic"))[0]["link"] == "up"  # the shell carries on
