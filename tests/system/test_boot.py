# SPDX-License-Identifier: MIT
"""Every boot path reaches the ready line in QEMU (q35): the UEFI loader from a
USB stick and over PXE, and GRUB's multiboot2 from the ISO under SeaBIOS and
under OVMF. The start line names the path the hypervisor believes it took."""

from formats import parse_cpus


def check_cpus_online(m, count):
    rows = parse_cpus(m.command("cpus"))
    assert len(rows) == count, f"`cpus` lists {len(rows)} CPUs, expected {count}: {rows}"
    assert sorted(r["index"] for r in rows) == list(range(count)), rows
    assert len({r["apic"] for r in rows}) == count, f"APIC IDs repeat: {rows}"
    not_online = [r for r in rows if r["state"] != "online"]
    assert not not_online, f"CPUs not online: {not_online}"


def test_usb_stick_ovmf_four_cpus(machine):
    m = machine(firmware="ovmf", media="usb", smp=4, memory=1024)
    assert m.boot_path() == "UEFI loader/disk"
    ready = m.wait_ready()
    assert (ready["cpus"], ready["sockets"]) == (4, 1), f"machine has 4 CPUs in 1 socket: {ready}"
    check_cpus_online(m, 4)


def test_pxe_ovmf(machine):
    m = machine(firmware="ovmf", media="pxe", smp=2, memory=1024)
    assert m.boot_path() == "UEFI loader/PXE"
    ready = m.wait_ready()
    assert ready["cpus"] == 2, f"ready line: {ready}; the machine has 2 CPUs"


def test_iso_seabios(machine):
    # The plain legacy path, one CPU (SMP is covered by the other boot tests).
    m = machine(firmware="bios", media="iso", smp=1, memory=1024)
    assert m.boot_path() == "multiboot2/BIOS"
    ready = m.wait_ready()
    assert ready["cpus"] == 1, f"ready line: {ready}; the machine has 1 CPU"


def test_iso_ovmf(machine):
    # Two CPUs: under UEFI little memory below 1 MiB is free for starting the others.
    m = machine(firmware="ovmf", media="iso", smp=2, memory=1024)
    assert m.boot_path() == "multiboot2/UEFI"
    ready = m.wait_ready()
    assert ready["cpus"] == 2, f"ready line: {ready}; the machine has 2 CPUs"
