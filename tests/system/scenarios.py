# SPDX-License-Identifier: MIT
"""Images built around a given configuration (tools/mkimage.sh BUILD CONFIG OUT), one
set per scenario under BUILD/images/NAME/, and helpers to read guest output and the
`stats` lines. Safe when several test workers build at once (a file lock)."""

import fcntl
import hashlib
import re
import shutil
import time
import subprocess

from machine import REPO, build_dir

STATS_RE = re.compile(r"^guest=(\S+) vcpu=(\d+) .*$", re.M)


def _locked(fn):
    lock = build_dir() / ".scenario.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        return fn()


def guest_tests_dir():
    """BUILD/guest-tests, built (make guest-tests) if needed."""
    def build():
        subprocess.run(["make", "-s", f"BUILD={build_dir()}", "guest-tests"], cwd=REPO,
                       check=True, stdout=subprocess.DEVNULL)
        return build_dir() / "guest-tests"
    return _locked(build)


def image_for(name, config):
    """Builds the ISO for config (a path) as scenario name; returns the ISO's path."""
    out = build_dir() / "images" / name

    def build():
        if out.exists():
            shutil.rmtree(out)
        subprocess.run([str(REPO / "tools" / "mkimage.sh"), str(build_dir()), str(config),
                        str(out)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        return out / "sidecore.iso"
    return _locked(build)


def guest_test_image(scenario):
    """The ISO for guest-tests/configs/SCENARIO.cfg (with its guests built)."""
    return image_for(scenario, guest_tests_dir() / f"{scenario}.cfg")


def parse_stats(text):
    """`stats` output -> {(guest, vcpu): {key: value}} (numbers as int)."""
    result = {}
    for m in STATS_RE.finditer(text):
        fields = {}
        for word in m.group(0).split():
            key, _, value = word.partition("=")
            fields[key] = int(value) if value.isdigit() else value
        result[(m.group(1), int(m.group(2)))] = fields
    return result


def guest_lines(log, guest):
    """The lines guest printed (without the "[NAME] " prefix)."""
    prefix = f"[{guest}] "
    return [line[len(prefix):] for line in log.splitlines() if line.startswith(prefix)]


def last_guest_match(log, guest, regex, what):
    """The match of regex (compiled) on the last line of guest's output it fits."""
    found = [regex.match(l) for l in guest_lines(log, guest)]
    found = [f for f in found if f]
    assert found, f"{guest} printed no {what} line"
    return found[-1]


def write_linux_disk(path, disk_mb, pattern_mb):
    """Writes a disk image for the Linux guests' /init (tools/linux-guest/init,
    sidecore.disk_pattern_mb): pattern_mb MiB that no two sectors share (SHA-256 of
    each 32-byte block's index), then zeros up to disk_mb MiB. Returns the
    pattern's md5."""
    data = b"".join(hashlib.sha256(i.to_bytes(8, "little")).digest()
                    for i in range(pattern_mb * 2**20 // 32))
    with open(path, "wb") as f:
        f.write(data)
        f.write(bytes(disk_mb * 2**20 - len(data)))
    return hashlib.md5(data).hexdigest()


def assert_guest_passed(log, guest):
    """The guest's own verdict: started, no FAIL, RESULT with 0 failed, exit code 0."""
    lines = guest_lines(log, guest)
    assert lines, f"guest {guest} printed nothing"
    assert not any("no sidecore" in l for l in lines), f"{guest} did not detect Sidecore"
    fails = [l for l in lines if l.startswith("FAIL")]
    assert not fails, f"{guest} failed: {fails}"
    results = [l for l in lines if l.startswith("RESULT")]
    assert results, f"{guest} never printed RESULT; last lines: {lines[-5:]}"
    m = re.match(r"RESULT (\d+) passed, (\d+) failed", results[-1])
    assert m and int(m[1]) > 0 and int(m[2]) == 0, results[-1]
    assert f"guest {guest} stopped: exited with code 0" in log, f"{guest}: no exit report"


def guest_rows(out):
    """`guests` output -> {name: [columns]} (rows after the NAME header; guest
    output interleaved with it, "[NAME] ...", is skipped)."""
    rows = {}
    seen_header = False
    for line in out.splitlines():
        if line.startswith("NAME "):
            seen_header = True
            continue
        if seen_header and line and not line.startswith("[") and not line.startswith("sidecore:"):
            cols = line.split(None, 4)
            rows[cols[0]] = cols
    return rows


def fresh_command(m, text, timeout=120):
    """Runs a shell command when the last prompt may have scrolled away under guest
    output: Enter first brings a new one (and only a prompt printed after it counts)."""
    m.skip_output()
    m.send_line("")
    m.wait_prompt(timeout)
    return m.command(text, timeout=timeout)


def fields(line):
    """'a=1 b=x' -> {'a': 1, 'b': 'x'} (numbers as int); words without '=' dropped."""
    out = {}
    for word in line.split():
        key, eq, value = word.partition("=")
        if eq:
            out[key] = int(value) if value.isdigit() else value
    return out


# A guest's console line ("[NAME] text") printed while a stats line was half out.
GUEST_LINE_RE = re.compile(r"\[[A-Za-z0-9_-]+\] [^\n]*\n")


def disk_stats(text):
    """`stats` output -> ({guest or (guest, disk): disk fields},
    {(guest, queue) of disk 0, or (guest, disk, queue): queue fields}, [sidecore fields]). Guest lines are cut out first, so a stats line a guest
    line landed in is whole again."""
    disks, queues, cores = {}, {}, []
    for line in GUEST_LINE_RE.sub("", text).splitlines():
        if line.startswith("disk guest="):
            f = fields(line)
            disks[(f["guest"], f["disk"])] = f
            disks.setdefault(f["guest"], f)  # a guest's first disk
        elif line.startswith("queue guest=") and "disk_queue=" in line:
            f = fields(line)
            queues[(f["guest"], f["disk"], f["disk_queue"])] = f
            if f["disk"] == 0:
                queues[(f["guest"], f["disk_queue"])] = f
        elif line.startswith("sidecore="):
            cores.append(fields(line))
    return disks, queues, cores


def wait_for_all(m, needles, timeout=240):
    """Waits until every string in needles has appeared in the serial output."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        missing = [n for n in needles if n not in m.log]
        if not missing:
            return
        m._check_fatal()
        time.sleep(0.5)
    raise AssertionError(f"{m.name}: still missing after {timeout}s: {missing}")
