# SPDX-License-Identifier: MIT
"""tools/sidecore-plot, with no emulator: charts from a recorded console log
(tests/data/stats-watch.log: `stats watch 2` under Bochs, guest-tests' vblk-good
twice, io = sidecore and io = trap, see its first lines) and from a small
benchmark file. The PNGs must exist and be valid images of a sane size, and the
series the tool computes must be the log's own numbers."""

import importlib.machinery
import importlib.util
import json
import re
import struct
from pathlib import Path

import pytest

from scenarios import GUEST_LINE_RE

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "sidecore-plot"
LOG = REPO / "tests" / "data" / "stats-watch.log"
BENCH = REPO / "tests" / "data" / "bench-scaling-example.json"

pytest.importorskip("matplotlib", reason="python3-matplotlib missing (tools/install-deps.sh)")


@pytest.fixture(scope="module")
def plot():
    loader = importlib.machinery.SourceFileLoader("sidecore_plot", str(TOOL))
    spec = importlib.util.spec_from_loader("sidecore_plot", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def png_size(path):
    """(width, height) from a PNG's IHDR; fails unless the file is a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR", f"{path}: no IHDR first"
    assert data[-8:-4] == b"IEND", f"{path}: does not end with IEND"
    return struct.unpack(">II", data[16:24])


def check_png(path):
    assert path.exists(), f"{path} was not written"
    w, h = png_size(path)
    assert 300 <= w <= 2000 and 200 <= h <= 2000, f"{path}: {w}x{h}"
    assert 5_000 <= path.stat().st_size <= 1_000_000, f"{path}: {path.stat().st_size} bytes"


def raw_blocks(text):
    """The log cut at its 'stats at=' lines, read with nothing but regexes:
    [(t, {guest: requests}, {guest: exits}, {guest: exits_io}, {guest: msi})]."""
    out = []
    text = GUEST_LINE_RE.sub("", text.replace("\r", ""))  # as the other tests read stats
    parts = re.split(r"^stats at=([0-9.]+)\s*$", text, flags=re.M)
    for t, body in zip(parts[1::2], parts[2::2]):
        body = body.split("sidecore> ")[0]  # the block ends at the next prompt
        req, exits, io, msi = {}, {}, {}, {}
        for g, n in re.findall(r"^queue guest=(\S+) .*?\brequests=(\d+)", body, re.M):
            req[g] = req.get(g, 0) + int(n)
        for g, n, m in re.findall(r"^guest=(\S+) vcpu=\d+ .*?\bexits=(\d+) exits_io=(\d+)",
                                  body, re.M):
            exits[g] = exits.get(g, 0) + int(n)
            io[g] = io.get(g, 0) + int(m)
        for g, n in re.findall(r"^disk guest=(\S+) .*?\bmsi=(\d+)", body, re.M):
            msi[g] = msi.get(g, 0) + int(n)
        out.append((float(t), req, exits, io, msi))
    return out


def same(got, want):
    """Two [(t, value)] series: the same times, values equal to rounding."""
    assert [t for t, _ in got] == [t for t, _ in want]
    assert [v for _, v in got] == pytest.approx([v for _, v in want])


def test_series_are_the_logs_numbers(plot):
    text = LOG.read_text()
    raw = raw_blocks(text)
    assert len(raw) >= 4, "the recorded log should hold several stats watch blocks"
    blocks = [b for b in plot.parse_log(text) if b.t is not None]
    assert [b.t for b in blocks] == [r[0] for r in raw]
    s = plot.series(plot.parse_log(text))
    guests = sorted(raw[-1][1])
    assert guests == ["disk-sc", "disk-trap"], guests
    for g in guests:
        rps, per_exit, per_io, per_irq = [], [], [], []
        for a, b in zip(raw, raw[1:]):
            dreq = b[1][g] - a[1][g]
            rps.append((b[0], dreq / (b[0] - a[0])))
            if dreq:
                per_exit.append((b[0], (b[2][g] - a[2][g]) / dreq))
                per_io.append((b[0], (b[3][g] - a[3][g]) / dreq))
                per_irq.append((b[0], (b[4][g] - a[4][g]) / dreq))
        assert len(per_exit) >= 3, f"{g}: fewer than 3 intervals with requests in the log"
        same(s["rps"][g], rps)
        same(s["exits_per_request"][g], per_exit)
        same(s["exits_io_per_request"][g], per_io)
        same(s["interrupts_per_request"][g], per_irq)
    # Trap mode takes an exit per notification; the sidecore guest does not.
    assert s["exits_io_per_request"]["disk-trap"][-1][1] > \
        s["exits_io_per_request"]["disk-sc"][-1][1]
    busy = s["sidecore_busy"]["sidecore 0"]
    assert len(busy) == len(raw) - 1 and all(0 <= v <= 1 for _, v in busy), busy
    assert s["queue_wait_us"]["disk-sc disk 0 queue 0"], "no wait series for the polled queue"


def test_charts_from_log_and_benchmark(plot, tmp_path, capsys):
    assert plot.main(["-o", str(tmp_path), str(LOG), str(BENCH)]) == 0
    written = capsys.readouterr().out.split()
    names = ["requests_per_second.png", "per_request.png", "sidecore.png", "scaling.png"]
    assert sorted(Path(p).name for p in written) == sorted(names)
    for name in names:
        check_png(tmp_path / name)


def test_log_without_timed_blocks_is_refused(plot, tmp_path, capsys):
    log = tmp_path / "plain.log"
    log.write_text("sidecore> stats\nstats: no guests (virtualization unavailable)\n")
    assert plot.main(["-o", str(tmp_path / "out"), str(log)]) == 1
    assert "stats watch" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*.png"))


def test_scaling_rounds_give_median_and_spread(plot, tmp_path):
    """A benchmark's rounds (tools/bench_elvis.py writes one run per round) are
    one point each: their median, with min and max for the error bar."""
    runs = [{"guests": n, "rps": r, "mode": "sidecore", "qd": 8} for n, r in
            ((1, 100.0), (1, 140.0), (1, 90.0), (2, 150.0), (2, 210.0))]
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"runs": runs}))
    curves = plot.scaling_curves(plot.load_bench(bench))
    assert curves == {"sidecore 8 in flight": [(1, 100.0, 90.0, 140.0), (2, 180.0, 150.0, 210.0)]}
    assert plot.main(["-o", str(tmp_path), str(bench)]) == 0
    check_png(tmp_path / "scaling.png")
