# SPDX-License-Identifier: MIT
"""Virtio-blk disks of Linux guests, in Bochs: the stock kernel's own virtio_pci
and virtio_blk drivers against Sidecore's virtio-blk device on a RAM disk, in both
I/O modes at once (guest-tests/linux/disk.cfg): disk-sc is served by the I/O
sidecore (io = sidecore), disk-trap the conventional way (io = trap).

Each guest's /init (tools/linux-guest/init, sidecore.test=disk) reads the pattern
this test wrote into its disk image, writes 1 MiB of random data from each of its
two vCPUs at once (O_DIRECT, pinned with taskset, so both queues carry requests),
drops its caches, reads the data back and compares checksums, then powers off.
`stats` must then show both queues busy, notification exits for disk-trap and
none for disk-sc."""

import hashlib
import re

import pytest

from scenarios import disk_stats, fields, image_for
from test_linux import BOOT_S, LINE, LinuxRun, linux_dir

DISK_MB = 16
PATTERN_MB = 4
GUESTS = {"disk-sc": "sidecore", "disk-trap": "trap"}


def pattern():
    """PATTERN_MB MiB that no two sectors share: SHA-256 of each 32-byte block's index."""
    return b"".join(hashlib.sha256(i.to_bytes(8, "little")).digest()
                    for i in range(PATTERN_MB * 2**20 // 32))


def write_disks():
    data = pattern()
    for g in GUESTS:
        with open(linux_dir() / f"{g}.img", "wb") as f:
            f.write(data)
            f.write(bytes(DISK_MB * 2**20 - len(data)))
    return hashlib.md5(data).hexdigest()


def guest_field(run, guest, key):
    m = run.wait(rf"^\[{re.escape(guest)}\] {LINE}.*\b{key}=(\S+)\n", 600,
                 f"'[{guest}] {LINE}...{key}=' line")
    return m[1]


@pytest.mark.timeout(2 * BOOT_S[2] + 900)
def test_linux_disk_in_sidecore_and_trap_modes(machine):
    """Both guests find a 16 MiB virtio disk with 2 queues, read the test's pattern
    intact, and read back what both vCPUs wrote; afterwards `stats` shows requests on
    both queues of each guest, a polling sidecore, notification exits for the trap
    guest only, and interrupts delivered to both."""
    md5 = write_disks()
    cfg = linux_dir() / "disk.cfg"
    # The boot CPU, 2 + 2 guest cores and the I/O sidecore.
    m = machine(image=image_for("linux-disk", cfg), emulator="bochs", smp=6, memory=512,
                timeout=2 * BOOT_S[2] + 840)
    run = LinuxRun(m, cfg, {g: r"power-off" for g in GUESTS})
    for g in GUESTS:
        r = run.report(g, 2 * BOOT_S[2])
        assert r["nproc"] == 2, r
        disk = fields(run.wait(rf"^\[{g}\] {LINE}disk=.*\n", 300, f"[{g}] disk= line")[0])
        assert disk.get("disk") == "vda", f"{g}: no virtio disk: {disk}"
        assert disk["sectors"] == DISK_MB * 2048, disk
        assert disk["queues"] == 2, disk
        assert guest_field(run, g, "disk_pattern_md5") == md5, f"{g}: the pattern read back wrong"
        written = guest_field(run, g, "disk_written")
        back = guest_field(run, g, "disk_read")
        assert written == back and len(written.split(",")) == 2, (written, back)
        assert guest_field(run, g, "disk_verify") == "ok"
    for g in GUESTS:
        run.wait(rf"^sidecore: guest {g} stopped: power-off.*$", 300,
                 f"'sidecore: guest {g} stopped: power-off'")
    disks, queues, cores = disk_stats(m.command("stats", timeout=120))
    for g, mode in GUESTS.items():
        d = disks[g]
        assert d["io"] == mode and d["state"] == "ok" and d["queues"] == 2, d
        assert d["msi"] > 0, f"{g}: no interrupts delivered: {d}"
        for q in (0, 1):
            s = queues[(g, q)]
            assert s["writes"] > 0 and s["requests"] > 0 and s["errors"] == 0, s
    assert disks["disk-sc"]["notify_exits"] == 0, disks["disk-sc"]
    assert disks["disk-trap"]["notify_exits"] > 0, disks["disk-trap"]
    for q in (0, 1):
        assert queues[("disk-sc", q)]["io_exits"] == 0, queues[("disk-sc", q)]
        assert queues[("disk-sc", q)]["busy_polls"] > 0, queues[("disk-sc", q)]
        assert queues[("disk-trap", q)]["kicks"] > 0, queues[("disk-trap", q)]
    assert len(cores) == 1 and cores[0]["state"] == "polling" and cores[0]["queues"] == 2, cores
