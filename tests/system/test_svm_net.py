# SPDX-License-Identifier: MIT
"""The whole network chain under QEMU 10 (TCG with AMD SVM and nested paging):
a stock Linux guest's virtio_net driver -> Sidecore's virtio-net device, served
by the I/O sidecore -> the switch -> its uplink, queue pair 0 of QEMU's igb
driven by Sidecore's own igb driver on the same sidecore -> QEMU's user-mode
network (slirp) -> a server this test runs on the host's loopback.

guest-tests/linux/netup-sc.cfg (one 1-vCPU guest on switch "wan", `uplink =
nic:0`, io = sidecore; the test writes a copy with its server's port). The
guest's /init (tools/linux-guest/init, sidecore.test=netup):
  1. gets its address by DHCP from slirp (busybox udhcpc, our script),
  2. GETs 256 KiB of random data from the test's HTTP server, which slirp
     makes reachable as 10.0.2.2 (the host's 127.0.0.1),
  3. POSTs 256 KiB of its own random data back;
the sha256 of each file must be the same on both sides. The device offers the
wire's MTU (1500; Linux refuses 1600). `stats` must then show the packets on
the guest's queue (netq, no notification exit), the switch's two ports and the
igb's queue (nicq); `nettest 0` is refused (the switch's sidecore owns queue
pair 0); `nic` lists the igb with its MAC, link up and the traffic.

An uplink needs a sidecore to poll the NIC, so there is no trap-mode variant
(the configuration refuses io = trap on such a switch). Three emulated CPUs:
the boot CPU, the guest's core, the sidecore. About a minute on an idle machine."""

import hashlib
import http.server
import os
import re
import threading

import pytest

from scenarios import GUEST_LINE_RE, fields, fresh_command, image_for
from test_linux import LINE, LinuxRun, linux_dir
from test_nic import parse_nic, qemu_has_igb
from test_svm import LINUX_BOOT_S, SVM_CPU

pytestmark = pytest.mark.skipif(not qemu_has_igb(),
                                reason="this QEMU has no igb (QEMU 8.0 or later needed)")

GUEST = "netup"
KIB = 1024
SIZE = 256 * KIB
IGB_MAC = "52:54:00:5c:0e:01"


class Server(http.server.ThreadingHTTPServer):
    """GET /data: the random file; POST /upload: keeps the body and answers with
    its sha256 (hex), which the guest prints beside its own."""

    daemon_threads = True

    def __init__(self, data):
        super().__init__(("127.0.0.1", 0), Handler)
        self.data = data
        self.uploads = []
        self.requests = []


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, code, body, ctype="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.server.requests.append(("GET", self.path))
        if self.path == "/data":
            self._send(200, self.server.data)
        else:
            self._send(404, b"not here\n", "text/plain")

    def do_POST(self):
        self.server.requests.append(("POST", self.path))
        length = int(self.headers.get("Content-Length", "0"))
        body = b""
        while len(body) < length:
            chunk = self.rfile.read(length - len(body))
            if not chunk:
                break
            body += chunk
        self.server.uploads.append(body)
        self._send(200, hashlib.sha256(body).hexdigest().encode(), "text/plain")


def uplink_stats(text):
    """`stats` output -> ({(guest, queue): netq}, {port name: switchport}, [nicq], [switch])."""
    queues, ports, nicqs, switches = {}, {}, [], []
    for line in GUEST_LINE_RE.sub("", text).splitlines():
        f = fields(line)
        if line.startswith("netq guest="):
            queues[(f["guest"], f["queue"])] = f
        elif line.startswith("switchport switch="):
            ports[f["name"]] = f
        elif line.startswith("nicq nic="):
            nicqs.append(f)
        elif line.startswith("switch name="):
            switches.append(f)
    return queues, ports, nicqs, switches


def guest_line(run, key, timeout):
    m = run.wait(rf"^\[{GUEST}\] {LINE}{key}=[^\n]*\n", timeout, f"'[{GUEST}] {LINE}{key}=' line")
    return fields(m[0].split(LINE, 1)[1])


@pytest.mark.timeout(2 * LINUX_BOOT_S + 600)
def test_svm_linux_dhcp_and_http_through_the_igb_uplink(machine):
    data = os.urandom(SIZE)
    server = Server(data)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        cfg = linux_dir() / "netup-sc-run.cfg"
        text = (linux_dir() / "netup-sc.cfg").read_text()
        cfg.write_text(re.sub(r"sidecore\.http=\S+", f"sidecore.http=10.0.2.2:{port}", text))
        nic = ["-netdev", "user,id=n0", "-device", f"igb,netdev=n0,mac={IGB_MAC}"]
        m = machine(image=image_for("linux-netup-sc", cfg), emulator="qemu", accel="tcg", smp=3,
                    memory=1024, timeout=2 * LINUX_BOOT_S + 540, extra_args=SVM_CPU + nic)
        run = LinuxRun(m, cfg, {GUEST: r"power-off"}, silence_s=LINUX_BOOT_S)
        run.wait(r"^.*switch wan: uplink nic0 \(82576\), queue 0\n", 120, "the uplink's log line")
        run.check_report(GUEST, run.report(GUEST, LINUX_BOOT_S), 1)

        dev = guest_line(run, "netup", 120)
        assert dev["netup"] == "eth0", f"no virtio-net device in the guest: {dev}"
        # Behind an uplink the device offers the wire's MTU, and Linux keeps to it.
        assert dev["mtu"] == 1500 and dev["mtu_1600"] == "refused", dev
        dhcp = guest_line(run, "netup_dhcp", 180)
        assert dhcp["netup_dhcp"] == "ok", dhcp
        # slirp's defaults: 10.0.2.0/24, the guest from .15 up, the gateway .2.
        assert re.fullmatch(r"10\.0\.2\.\d+/24", dhcp["ip"]) and dhcp["router"] == "10.0.2.2", dhcp

        get = guest_line(run, "netup_get", 300)
        assert get["netup_get"] == "ok", get
        assert get["bytes"] == SIZE and get["sha256"] == hashlib.sha256(data).hexdigest(), get

        put = guest_line(run, "netup_put", 300)
        assert put["netup_put"] == "ok" and put["bytes"] == SIZE, put
        assert len(server.uploads) == 1, f"{len(server.uploads)} uploads: {server.requests}"
        got = server.uploads[0]
        assert len(got) == SIZE, len(got)
        assert hashlib.sha256(got).hexdigest() == put["sha256"] == put["reply"], put
        run.wait(rf"^sidecore: guest {GUEST} stopped: power-off.*$", 180, "the guest's power-off")

        text = fresh_command(m, "stats")
        queues, ports, nicqs, switches = uplink_stats(text)
        q = queues[(GUEST, 0)]
        # 256 KiB each way, plus headers, ACKs, DHCP and ARP.
        assert q["rx_packets"] > SIZE // 1514 and q["rx_bytes"] > SIZE, q
        assert q["tx_packets"] > SIZE // 1514 and q["tx_bytes"] > SIZE, q
        assert q["kicks"] == 0, q  # io = sidecore: notifications never exit
        assert len(switches) == 1 and switches[0]["name"] == "wan", switches
        sw = switches[0]
        assert sw["ports"] == 2 and sw["uplink"] == "nic0" and sw["io"] == "sidecore", sw
        assert sw["busy_polls"] > 0, sw
        guest_port, up = ports[f"{GUEST}/net0"], ports["nic0"]
        assert up["uplink"] == 1 and guest_port["uplink"] == 0, (guest_port, up)
        for p in (guest_port, up):
            assert p["rx"] > SIZE // 1514 and p["tx"] > SIZE // 1514, p
            assert p["rx_bytes"] > SIZE and p["tx_bytes"] > SIZE, p
        assert len(nicqs) == 1, nicqs
        nq = nicqs[0]
        assert nq["nic"] == 0 and nq["queue"] == 0 and nq["switch"] == "wan", nq
        assert nq["rx_packets"] > SIZE // 1514 and nq["rx_bytes"] > SIZE, nq
        assert nq["tx_packets"] > SIZE // 1514 and nq["tx_bytes"] > SIZE, nq
        assert nq["rx_errors"] == 0 and nq["port_rx_errors"] == 0 and nq["tx_too_big"] == 0, nq
        # Linux's virtio_net leaves TCP checksums to the device (VIRTIO_NET_F_CSUM);
        # the igb does not compute them, so the uplink's copy did (slirp checks them:
        # the POST's sha256 shows they were right).
        assert nq["tx_csum_done"] > SIZE // 1514, nq

        # The switch's sidecore owns the igb's queue pair 0: nettest may not take it.
        out = m.command("nettest 0 count=10", timeout=60)
        assert "nettest: nic0 queue 0 belongs to switch wan" in out, out
        assert "nettest: result=fail" in out, out

        out = m.command("nic", timeout=60)
        nics = parse_nic(out)
        assert list(nics) == [0], out
        n = nics[0]
        assert n["chip"] == "82576" and n["mac"] == IGB_MAC and n["link"] == "up", n
        counts = fields(re.search(r"^nic0 .*$", out, re.M)[0])
        assert counts["rx_packets"] > SIZE // 1514 and counts["tx_packets"] > SIZE // 1514, counts
    finally:
        server.shutdown()
        server.server_close()
