# SPDX-License-Identifier: MIT
"""(No emulator.) The pure logic of the benchmarks' rounds (tools/bench_rounds.py:
median, spread, the "no clear difference" verdict, the alternating turn order)
and of `make bench-net`'s numbers (tools/bench_net.py: a pair's counters from a
`stats` text, one burst's metrics, the summary and the table)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import bench_net  # noqa: E402
from bench_rounds import cell, overlap, summary, turn_order, verdict  # noqa: E402


def test_summary_median_and_spread():
    s = summary([3.0, 1.0, 2.0, None, 10.0])
    assert s["median"] == 2.5 and s["min"] == 1.0 and s["max"] == 10.0 and s["n"] == 4
    assert s["values"] == [3.0, 1.0, 2.0, None, 10.0]
    assert summary([None, None]) is None
    assert summary([]) is None


def test_verdict_only_where_the_spreads_do_not_overlap():
    a, b = summary([1.0, 1.2, 1.1]), summary([2.0, 2.2, 2.4])
    assert not overlap(a, b)
    assert verdict(a, b, ("sidecore", "trap")) == "trap higher, x2.00"
    assert verdict(b, a, ("sidecore", "trap")) == "sidecore higher, x2.00"
    c = summary([1.0, 2.1])  # touches b's lowest round
    assert overlap(c, b) and verdict(c, b) == "no clear difference"
    assert overlap(a, a) and verdict(a, a) == "no clear difference"
    assert verdict(a, None) == "no clear difference"
    zero = summary([0.0, 0.0])
    assert verdict(zero, a, ("sidecore", "trap")) == "trap higher"


def test_cell_shows_the_median_and_the_spread():
    assert cell(summary([1.0, 3.0, 2.0]), "{:.2f}") == "2.00 [1.00-3.00]"
    assert cell(summary([5.0]), "{:.0f}") == "5"
    assert cell(summary([4.0, 4.0]), "{:.0f}") == "4"
    assert cell(None, "{:.0f}") == "-"


def test_turn_order_alternates():
    assert [turn_order(["sc", "tr"], r) for r in range(4)] == \
        [["sc", "tr"], ["tr", "sc"], ["sc", "tr"], ["tr", "sc"]]


STATS = """guest=sc-a vcpu=0 cpu=1 state=running exits=100 exits_io=3 rip=0x1
guest=sc-b vcpu=0 cpu=2 state=running exits=50 exits_io=1 rip=0x2
guest=tr-a vcpu=0 cpu=3 state=running exits=7000 exits_io=900 rip=0x3
[sc-b] LINUX-GUEST: guest=tr-a vcpu=0 exits=99999
net guest=sc-a net=0 switch=sc io=sidecore msi=10 notify_exits=0
netq guest=sc-a net=0 queue=0 rx_packets=500 tx_packets=400
net guest=sc-b net=0 switch=sc io=sidecore msi=20 notify_exits=0
netq guest=sc-b net=0 queue=0 rx_packets=30 tx_packets=40
net guest=tr-a net=0 switch=tr io=trap msi=5 notify_exits=77
"""


def test_snapshot_sums_the_pair_and_counts_the_senders_frames():
    assert bench_net.snapshot(STATS, "sc") == \
        {"exits": 150, "notify_exits": 0, "msi": 30, "frames": 70}
    assert bench_net.snapshot(STATS, "tr") == \
        {"exits": 7000, "notify_exits": 77, "msi": 5, "frames": 0}


def test_window_metrics_per_frame_and_per_second():
    before = {"exits": 100, "notify_exits": 10, "msi": 5, "frames": 0}
    after = {"exits": 500, "notify_exits": 210, "msi": 205, "frames": 200}
    w = bench_net.window_metrics(before, after, 2.0)
    assert w["frames"] == 200 and w["fps"] == 100.0
    assert w["exits_per_frame"] == 2.0 and w["notify_exits_per_frame"] == 1.0
    assert w["interrupts_per_frame"] == 1.0 and w["interrupts"] == 200
    none = bench_net.window_metrics(before, before, 0.0)
    assert none["fps"] is None and none["exits_per_frame"] is None


def test_summary_and_table_over_rounds():
    def m(fps, epf):
        return {"frames": 100, "seconds": 100 / fps, "fps": fps, "exits_per_frame": epf,
                "notify_exits_per_frame": 0.0, "interrupts_per_frame": 1.0}

    rounds = [{"sc": {56: m(100, 1.0)}, "tr": {56: m(50, 3.0)}},
              {"tr": {56: m(60, 3.2)}, "sc": {56: m(55, 1.1)}}]
    s = bench_net.summarize(rounds, [56])
    assert s[56]["sc"]["fps"]["median"] == 77.5 and s[56]["tr"]["fps"]["max"] == 60
    text = bench_net.table(s, [56])
    fps = next(l for l in text.splitlines() if l.startswith("frames per second"))
    assert "78 [55-100]" in fps and "55 [50-60]" in fps and "no clear difference" in fps
    epf = next(l for l in text.splitlines() if l.startswith("exits per frame"))
    assert "1.05 [1.00-1.10]" in epf and "trap higher, x2.95" in epf


def test_exit_reasons_per_frame_get_their_rows():
    before = {"exits": 10, "notify_exits": 0, "msi": 0, "frames": 0, "exit_hlt": 5}
    after = {"exits": 410, "notify_exits": 0, "msi": 100, "frames": 100, "exit_hlt": 205,
             "exit_io": 50}
    w = bench_net.window_metrics(before, after, 1.0)
    assert w["exit_hlt_per_frame"] == 2.0 and w["exit_io_per_frame"] == 0.5
    other = bench_net.window_metrics(before, before | {"frames": 100, "exits": 110}, 1.0)
    assert "exit_hlt_per_frame" not in other
    s = bench_net.summarize([{"sc": {56: w}, "tr": {56: other}}], [56])
    assert s[56]["tr"]["exit_hlt_per_frame"]["median"] == 0  # did not occur: 0, not missing
    lines = bench_net.table(s, [56]).splitlines()
    i = next(n for n, l in enumerate(lines) if l.startswith("exits per frame"))
    assert lines[i + 1].startswith("  hlt ") and "2.00" in lines[i + 1], lines
    assert lines[i + 2].startswith("  io ") and "0.50" in lines[i + 2], lines
    assert bench_net.snapshot("guest=sc-b vcpu=0 cpu=2 exits=9 exit_hlt=4 exit_io=5 rip=0x1\n",
                              "sc")["exit_hlt"] == 4


# ----- the parts bench-nvme and bench-boot use (rotation, ratio verdict, JSON file) -----

def test_every_side_takes_every_position():
    from bench_rounds import order

    sides = ["blktest", "linux", "guest"]
    rounds = [order(sides, r) for r in range(3)]
    for pos in range(3):
        assert sorted(r[pos] for r in rounds) == sorted(sides)
    assert order(["bare", "sidecore"], 1) == ["sidecore", "bare"]


def test_ratio_verdict_says_no_clear_difference_only_where_spreads_overlap():
    from bench_rounds import ratio_verdict

    fast, slow = summary([100, 110, 120]), summary([50, 55, 60])
    noisy = summary([40, 105, 130])
    assert ratio_verdict(fast, slow) == "2.00x, higher"
    assert ratio_verdict(slow, fast, "slower", "faster") == "0.50x, faster"
    assert "no clear difference" in ratio_verdict(fast, noisy)
    assert "no spread" in ratio_verdict(summary([100]), slow)
    assert ratio_verdict(None, slow) == "-"


def test_json_holds_every_run(tmp_path):
    import json

    from bench_rounds import default_json_path, write_json

    runs = [{"side": "linux", "round": 1, "qd": {1: {"iops": 10.0}}},
            {"side": "guest", "round": 1, "error": "boot timed out"}]
    path = write_json(tmp_path / "sub" / "b.json", "bench-x", {"rounds": 1}, runs)
    doc = json.loads(path.read_text())
    assert doc["benchmark"] == "bench-x" and doc["settings"] == {"rounds": 1}
    assert doc["runs"][0]["qd"]["1"]["iops"] == 10.0 and doc["runs"][1]["error"]
    assert default_json_path(tmp_path, "bench-y").parent == tmp_path / "bench"
