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


# --- blktest: the guest block path (virtio-blk driver + device on a spare core) ---
#
# `blktest DISK [verify|randread|pastend] [qd=N] [count=N] [bs=SIZE] [seed=N]` prints
#   blktest: writing only bytes 0xSTART..0xLAST of nvmeCnN (SIZE)          (verify)
#   blktest: verify nvmeCnN@... on cpu N through virtio-blk: qd=N bs=SIZE seed=0xSEED
#   blktest: pass: ...   or   blktest: FAIL: ...
#   blktest: result=pass|fail op=OP qd=N requests=N iops=N mean_us=N.N p99_us=N.N max_us=N.N
# verify writes, in every 512-byte sector at absolute byte offset O: the words O, SEED, then
# (SEED ^ (O + 8 * i)) * 0x9E3779B97F4A7C15 mod 2^64 for i = 2..63 (little-endian).

FILLER = 0x5A
BLKTEST_MULT = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1
RESULT_RE = re.compile(r"^blktest: result=(pass|fail) op=(\w+) qd=(\d+) requests=(\d+) iops=(\d+) "
                       r"mean_us=(\d+\.\d) p99_us=(\d+\.\d) max_us=(\d+\.\d)$", re.M)
SEED_RE = re.compile(r"^blktest: \w+ \S+ on cpu (\d+) through virtio-blk: .*seed=(0x[0-9a-f]+)$",
                     re.M)


def make_filled_image(tmp_path, name, size):
    path = tmp_path / name
    path.write_bytes(bytes([FILLER]) * size)
    return path


def blktest_pattern(seed, start, length):
    out = bytearray()
    for o in range(start, start + length, 512):
        words = [o, seed] + [((seed ^ (o + 8 * i)) * BLKTEST_MULT) & MASK64 for i in range(2, 64)]
        out += struct.pack("<64Q", *words)
    return bytes(out)


def check_blktest_image(path, start, length, seed):
    """The blktest pattern of this seed in [start, start+length), the filler elsewhere."""
    data = path.read_bytes()
    got, want = data[start:start + length], blktest_pattern(seed, start, length)
    if got != want:
        bad = next(i for i in range(0, length, 8) if got[i:i + 8] != want[i:i + 8])
        pytest.fail(f"{path.name}: blktest pattern wrong at byte {start + bad:#x} "
                    f"(got {got[bad:bad + 8].hex()}, want {want[bad:bad + 8].hex()})")
    check_untouched(path, data, [(0, start), (start + length, len(data) - start - length)])


def check_untouched(path, data=None, ranges=None):
    data = path.read_bytes() if data is None else data
    for start, length in ranges or [(0, len(data))]:
        piece = data[start:start + length]
        if piece != bytes([FILLER]) * length:
            first = start + next(i for i, b in enumerate(piece) if b != FILLER)
            pytest.fail(f"{path.name}: byte {first:#x}, outside the tested range, was changed")


def blktest_result(out):
    m = RESULT_RE.search(out)
    assert m, f"no result line:\n{out}"
    assert len(RESULT_RE.findall(out)) == 1, f"more than one result line:\n{out}"
    return {"result": m[1], "op": m[2], "qd": int(m[3]), "requests": int(m[4]),
            "iops": int(m[5]), "mean_us": float(m[6]), "p99_us": float(m[7]),
            "max_us": float(m[8])}


def run_blktest_verify(m, disk, ns_name, start, length, extra=""):
    out = m.command(f"blktest {disk} {extra}".strip(), timeout=240)
    announce = (f"blktest: writing only bytes {start:#x}..{start + length - 1:#x} of {ns_name} "
                f"({format_size(length)})")
    assert announce in out, f"expected {announce!r}:\n{out}"
    assert out.index(announce) < out.index("blktest: result="), out
    s = SEED_RE.search(out)
    assert s and int(s[1]) >= 1, f"no settings line naming a spare cpu and the seed:\n{out}"
    assert re.search(r"^blktest: pass", out, re.M) and "FAIL" not in out, out
    r = blktest_result(out)
    assert r["result"] == "pass" and r["op"] == "verify", r
    assert r["requests"] >= 2 * (length // (64 * 1024)) + 1, r
    assert r["iops"] > 0 and 0 < r["mean_us"] <= r["max_us"] and r["p99_us"] <= r["max_us"], r
    return int(s[2], 16), r


def format_size(n):
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return f"{n}B"


def test_blktest_one_controller_one_namespace(machine, tmp_path):
    img = make_filled_image(tmp_path, "bt1.img", 16 * MIB)
    m = boot(machine, drive("d0", img) + ["-device", "nvme,id=c0,serial=sc-bt1",
                                          "-device", "nvme-ns,drive=d0,bus=c0,nsid=1"])
    seed, _ = run_blktest_verify(m, "nvme:0:1:4M+2M", "nvme0n1", 4 * MIB, 2 * MIB, "qd=16")

    # Reads only: a random-read run and the past-the-end check on the same range.
    out = m.command("blktest nvme:0:1:4M+2M randread qd=8 count=300", timeout=120)
    assert "blktest: reading only (nothing is written)" in out, out
    r = blktest_result(out)
    assert r["result"] == "pass" and r["op"] == "randread" and r["qd"] == 8, r
    assert r["requests"] == 300, r
    out = m.command("blktest nvme:0:1:4M+2M pastend", timeout=60)
    assert "came back to the requester as IOERR" in out, out
    r = blktest_result(out)
    assert r["result"] == "pass" and r["op"] == "pastend" and r["requests"] == 2, r

    # A range past the end of the namespace, a namespace and a controller that do not
    # exist: a clear message, a result line, nothing written, and the shell carries on.
    out = m.command("blktest nvme:0:1:15M+2M")
    assert "runs past the end of nvme0n1" in out and "writing" not in out, out
    assert blktest_result(out)["result"] == "fail"
    out = m.command("blktest nvme:0:7")
    assert "no usable namespace 7" in out, out
    out = m.command("blktest nvme:3:1")
    assert "no NVMe controller 3" in out, out
    out = m.command("blktest ram:disk.img")
    assert "only NVMe disks" in out, out
    out = m.command("blktest nvme:0:1:4M+2M qd=0")
    assert "bad argument 'qd=0'" in out, out
    assert parse_nvme(m.command("nvme"))[0]["state"] == "online"
    m.close()
    check_blktest_image(img, 4 * MIB, 2 * MIB, seed)


def test_blktest_one_controller_two_namespaces(machine, tmp_path):
    a = make_filled_image(tmp_path, "bta.img", 8 * MIB)
    b = make_filled_image(tmp_path, "btb.img", 8 * MIB)
    m = boot(machine, drive("d0", a) + drive("d1", b) + [
        "-device", "nvme,id=c0,serial=sc-bt2",
        "-device", "nvme-ns,drive=d0,bus=c0,nsid=1",
        "-device", "nvme-ns,drive=d1,bus=c0,nsid=2,logical_block_size=4096,"
                   "physical_block_size=4096"])
    seed, _ = run_blktest_verify(m, "nvme:0:2:1M+3M", "nvme0n2", 1 * MIB, 3 * MIB, "bs=16K")
    # 4 KiB blocks: pastend reads two of them across the end.
    r = blktest_result(m.command("blktest nvme:0:2:1M+3M pastend", timeout=60))
    assert r["result"] == "pass" and r["requests"] == 2, r
    out = m.command("blktest nvme:0:2:1M+3M bs=2K")
    assert "not a multiple of nvme0n2@1M+3M's 4096-byte blocks" in out, out
    m.close()
    check_blktest_image(b, 1 * MIB, 3 * MIB, seed)
    check_untouched(a)


def test_blktest_two_controllers(machine, tmp_path):
    a = make_filled_image(tmp_path, "btc0.img", 8 * MIB)
    b = make_filled_image(tmp_path, "btc1.img", 4 * MIB)
    m = boot(machine, drive("d0", a) + drive("d1", b) + [
        "-device", "nvme,drive=d0,serial=sc-bt-first",
        "-device", "nvme,id=c1,serial=sc-bt-second",
        "-device", "nvme-ns,drive=d1,bus=c1,nsid=1"])
    ctrls = parse_nvme(m.command("nvme"))
    second = next(i for i, c in ctrls.items() if c["serial"] == "sc-bt-second")
    seed, _ = run_blktest_verify(m, f"nvme:{second}:1", f"nvme{second}n1", 0, 4 * MIB, "qd=32")

    # A command the first controller never answers: the NVMe driver times it out and resets
    # the controller, blktest gets the error back (no hang), and the next run passes.
    first = 1 - second
    m.command(f"nvme lose {first}")
    out = m.command(f"blktest nvme:{first}:1:1M+1M", timeout=120)
    assert re.search(r"^blktest: FAIL: write of \d+ bytes at byte 0x[0-9a-f]+: status 1, "
                     r"expected 0$", out, re.M), out
    assert blktest_result(out)["result"] == "fail", out
    first_seed, _ = run_blktest_verify(m, f"nvme:{first}:1:1M+1M", f"nvme{first}n1", 1 * MIB,
                                       1 * MIB)
    m.close()
    check_blktest_image(b, 0, 4 * MIB, seed)
    check_blktest_image(a, 1 * MIB, 1 * MIB, first_seed)


def test_blktest_misaligned_segments(machine, tmp_path):
    """Requests whose segments start and end mid-page (blktest align=N cuts each into 16
    pieces at odd places) are valid virtio-blk requests; the NVMe backend must serve them
    although PRPs cannot express them. QEMU fails such PRPs with SC 13h, so this failed
    with IOERR before the backend bounced them."""
    a = make_filled_image(tmp_path, "bmis.img", 8 * MIB)
    b = make_filled_image(tmp_path, "bmis4k.img", 8 * MIB)
    m = boot(machine, drive("d0", a) + drive("d1", b) + [
        "-device", "nvme,id=c0,serial=sc-bt-align",
        "-device", "nvme-ns,drive=d0,bus=c0,nsid=1",
        "-device", "nvme-ns,drive=d1,bus=c0,nsid=2,logical_block_size=4096,"
                   "physical_block_size=4096"])
    # 512-byte blocks: dword-aligned and byte offsets, several requests in flight (they
    # queue for the one bounce buffer), requests larger than QEMU's 512 KiB MDTS (split
    # by virtio-blk, each part bounced).
    seed, _ = run_blktest_verify(m, "nvme:0:1:1M+1M", "nvme0n1", 1 * MIB, 1 * MIB,
                                 "qd=8 align=512")
    out = m.command("blktest nvme:0:1:2M+1M qd=1 bs=4K align=4", timeout=240)
    assert "bs=4K align=4 seed=" in out and blktest_result(out)["result"] == "pass", out
    out = m.command("blktest nvme:0:1:3M+2M qd=4 bs=1M align=1001", timeout=240)
    r, settings = blktest_result(out), SEED_RE.search(out)
    assert r["result"] == "pass" and r["requests"] == 2 + 1 + 2 and settings, out
    seed2 = int(settings[2], 16)
    out = m.command("blktest nvme:0:1:1M+1M randread qd=16 count=200 align=2", timeout=120)
    r = blktest_result(out)
    assert r["result"] == "pass" and r["requests"] == 200, out
    # 4 KiB blocks: segments cut inside blocks.
    seed3, _ = run_blktest_verify(m, "nvme:0:2:1M+2M", "nvme0n2", 1 * MIB, 2 * MIB,
                                  "bs=16K align=1000")
    assert parse_nvme(m.command("nvme"))[0]["state"] == "online"
    m.close()
    data = a.read_bytes()
    for start, length, s in ((1 * MIB, 1 * MIB, seed), (3 * MIB, 2 * MIB, seed2)):
        want = blktest_pattern(s, start, length)
        assert data[start:start + length] == want, f"pattern of seed {s:#x} wrong at {start:#x}"
    check_blktest_image(b, 1 * MIB, 2 * MIB, seed3)
