# SPDX-License-Identifier: MIT
"""The NVMe driver under QEMU (TCG, q35, SeaBIOS, the ISO) in three shapes: one
controller with one namespace, one controller with two namespaces (512-byte and
4 KiB blocks), two controllers. In each, `nvme` must list exactly what QEMU was
given, `nvme rw` must pass, and afterwards the raw image files on the host must
hold the pattern inside each range and zeros everywhere else. Fault cases: a
range past the end of a namespace is refused with a clear message and the
shell carries on; a command the controller never answers times out, the
controller is reset, the requester gets an error and the next run passes.

`nvme` prints one line per controller and one per namespace:
  nvme0 pci=0000:00:04.0 state=online model="QEMU NVMe Ctrl" serial="..." fw="..." ioqueues=N ...
    nvme0n1 nsid=1 size=64M blocks=131072 lba=512
`nvme rw` writes the 64-bit little-endian word (namespace byte offset XOR
0x53434e564d450000) at every 8-byte offset of the range."""

import re
import struct

import pytest

from formats import MIB, parse_size

MAGIC = 0x53434E564D450000
CTRL_RE = re.compile(r'^nvme(\d+) pci=(\S+) state=(\S+) model="([^"]*)" serial="([^"]*)" '
                     r'fw="([^"]*)" ioqueues=(\d+)', re.M)
NS_RE = re.compile(r"^\s+nvme(\d+)n(\d+) nsid=(\d+) size=(\S+) blocks=(\d+) lba=(\d+)", re.M)


def parse_nvme(output):
    """`nvme` output -> {ctrl index: {"serial", "model", "state", "pci", "ioqueues", "ns": {nsid:
    {"blocks", "lba"}}}}."""
    ctrls = {}
    for m in CTRL_RE.finditer(output):
        ctrls[int(m[1])] = {"pci": m[2], "state": m[3], "model": m[4], "serial": m[5],
                            "fw": m[6], "ioqueues": int(m[7]), "ns": {}}
    for m in NS_RE.finditer(output):
        c = int(m[1])
        assert c in ctrls, f"namespace line for unknown controller {c}:\n{output}"
        blocks, lba = int(m[5]), int(m[6])
        assert parse_size(m[4]) == blocks * lba, f"size {m[4]} != {blocks} x {lba}:\n{output}"
        ctrls[c]["ns"][int(m[3])] = {"blocks": blocks, "lba": lba}
    assert ctrls, f"`nvme` listed no controller:\n{output}"
    return ctrls


def make_image(tmp_path, name, size):
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def drive(ident, path):
    return ["-drive", f"if=none,id={ident},format=raw,file={path}"]


def expected_pattern(start, length):
    return struct.pack(f"<{length // 8}Q", *[o ^ MAGIC for o in range(start, start + length, 8)])


def check_image(path, ranges):
    """The image holds the pattern in every (start, length) of ranges and zeros elsewhere."""
    data = path.read_bytes()
    covered = bytearray(data)
    for start, length in ranges:
        got = data[start:start + length]
        want = expected_pattern(start, length)
        if got != want:
            bad = next(i for i in range(0, length, 8) if got[i:i + 8] != want[i:i + 8])
            pytest.fail(f"{path.name}: pattern wrong at byte {start + bad:#x} "
                        f"(got {got[bad:bad + 8].hex()}, want {want[bad:bad + 8].hex()})")
        covered[start:start + length] = bytes(length)
    if any(covered):
        first = next(i for i, b in enumerate(covered) if b)
        pytest.fail(f"{path.name}: byte {first:#x}, outside every written range, is not zero")


def run_rw(m, ctrl, nsid, start, length):
    out = m.command(f"nvme rw {ctrl} {nsid} {start}+{length}", timeout=180)
    assert "nothing outside this range" in out, f"`nvme rw` did not announce its range:\n{out}"
    assert re.search(r"^nvme rw: PASS", out, re.M), f"`nvme rw` did not pass:\n{out}"
    assert "read just past the end was refused: out of range" in out, out
    return out


def boot(machine, extra):
    m = machine(media="iso", smp=2, memory=512, extra_args=extra)
    m.wait_ready()
    return m


def test_one_controller_one_namespace(machine, tmp_path):
    img = make_image(tmp_path, "ns1.img", 64 * MIB)
    m = boot(machine, drive("d0", img) + ["-device", "nvme,id=c0,serial=sc-one",
                                          "-device", "nvme-ns,drive=d0,bus=c0,nsid=1"])
    ctrls = parse_nvme(m.command("nvme"))
    assert list(ctrls) == [0], ctrls
    c = ctrls[0]
    assert c["serial"] == "sc-one" and c["state"] == "online" and c["ioqueues"] >= 1, c
    assert c["model"] and c["fw"], c
    assert c["ns"] == {1: {"blocks": 64 * MIB // 512, "lba": 512}}, c

    run_rw(m, 0, 1, 1 * MIB, 2 * MIB + 4096)
    run_rw(m, 0, 1, 60 * MIB, 4 * MIB)  # up to the last byte of the namespace

    # A range past the end: a clear error, nothing written, and the shell works.
    out = m.command("nvme rw 0 1 63M+2M")
    assert "runs past the end of nvme0n1" in out and "PASS" not in out, out
    out = m.command("nvme rw 0 2 0+4K")
    assert "no usable namespace 2" in out, out
    out = m.command("nvme rw 0 1 513+4K")
    assert "multiples" in out, out
    assert parse_nvme(m.command("nvme"))[0]["state"] == "online"
    m.close()
    check_image(img, [(1 * MIB, 2 * MIB + 4096), (60 * MIB, 4 * MIB)])


def test_one_controller_two_namespaces(machine, tmp_path):
    a = make_image(tmp_path, "a.img", 32 * MIB)
    b = make_image(tmp_path, "b.img", 16 * MIB)
    m = boot(machine, drive("d0", a) + drive("d1", b) + [
        "-device", "nvme,id=c0,serial=sc-two",
        "-device", "nvme-ns,drive=d0,bus=c0,nsid=1",
        "-device", "nvme-ns,drive=d1,bus=c0,nsid=2,logical_block_size=4096,"
                   "physical_block_size=4096"])
    ctrls = parse_nvme(m.command("nvme"))
    assert list(ctrls) == [0], ctrls
    assert ctrls[0]["ns"] == {1: {"blocks": 32 * MIB // 512, "lba": 512},
                              2: {"blocks": 16 * MIB // 4096, "lba": 4096}}, ctrls

    run_rw(m, 0, 1, 4096, 1 * MIB)
    run_rw(m, 0, 2, 8 * MIB, 3 * MIB)
    out = m.command("nvme rw 0 2 0+2K")  # not a multiple of the 4 KiB block
    assert "multiples of nvme0n2's 4096-byte blocks" in out, out
    m.close()
    check_image(a, [(4096, 1 * MIB)])
    check_image(b, [(8 * MIB, 3 * MIB)])


def test_two_controllers(machine, tmp_path):
    a = make_image(tmp_path, "c0.img", 16 * MIB)
    b = make_image(tmp_path, "c1.img", 24 * MIB)
    m = boot(machine, drive("d0", a) + drive("d1", b) + [
        "-device", "nvme,drive=d0,serial=sc-first",
        "-device", "nvme,id=c1,serial=sc-second",
        "-device", "nvme-ns,drive=d1,bus=c1,nsid=1"])
    ctrls = parse_nvme(m.command("nvme"))
    assert sorted(ctrls) == [0, 1], ctrls
    assert {c["serial"] for c in ctrls.values()} == {"sc-first", "sc-second"}, ctrls
    assert ctrls[0]["pci"] != ctrls[1]["pci"], ctrls
    by_serial = {c["serial"]: i for i, c in ctrls.items()}
    first, second = by_serial["sc-first"], by_serial["sc-second"]
    assert ctrls[first]["ns"] == {1: {"blocks": 16 * MIB // 512, "lba": 512}}, ctrls
    assert ctrls[second]["ns"] == {1: {"blocks": 24 * MIB // 512, "lba": 512}}, ctrls

    run_rw(m, first, 1, 0, 1 * MIB)
    run_rw(m, second, 1, 20 * MIB, 4 * MIB)
    m.close()
    check_image(a, [(0, 1 * MIB)])
    check_image(b, [(20 * MIB, 4 * MIB)])


def test_lost_command_resets_controller(machine, tmp_path):
    img = make_image(tmp_path, "ns.img", 16 * MIB)
    m = boot(machine, drive("d0", img) + ["-device", "nvme,drive=d0,serial=sc-lost"])
    m.command("nvme lose 0")
    out = m.command("nvme rw 0 1 1M+1M", timeout=120)
    # The lost command comes back to the requester as an error, never silently.
    assert "resetting the controller" in out, out
    assert re.search(r"failed back to their requesters", out), out
    assert "write failed: timed out" in out and "FAIL" in out, out
    c = parse_nvme(m.command("nvme"))[0]
    assert c["state"] == "online", c
    assert re.search(r"resets=1\b", m.command("nvme")), "the reset was not counted"
    run_rw(m, 0, 1, 1 * MIB, 1 * MIB)  # the controller works again after the reset

    out = m.command("nvme shutdown")
    assert "nvme0: shut down" in out, out
    assert parse_nvme(m.command("nvme"))[0]["state"] == "shut-down"
    out = m.command("nvme rw 0 1 0+4K")
    assert "shut-down" in out and "PASS" not in out, out
    m.close()
    check_image(img, [(1 * MIB, 1 * MIB)])
