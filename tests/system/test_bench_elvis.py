# SPDX-License-Identifier: MIT
"""tools/bench_elvis.py, the ELVIS scaling benchmark, in its smallest
configuration (1 and 2 guests, one request in flight, one round, QEMU TCG with
AMD-V): four boots of about 15 s each, so the machinery (the vbench-qd1 guest,
the configs, the stats snapshots, the JSON file and the table) keeps working.
The numbers are the emulator's; only what holds on any machine is checked:
every guest finished with its reads OK, the hypervisor's request count agrees
with the guest's, a trapped request costs its notification exit, and every
request raised an interrupt at most once."""

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_elvis", REPO / "tools" / "bench_elvis.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_elvis_smallest_configuration(tmp_path, capsys):
    bench = load_bench()
    out = tmp_path / "bench-elvis.json"
    rc = bench.main(["--guests", "1,2", "--qd", "1", "--rounds", "1", "--json", str(out),
                     "--timeout", "240"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    data = json.loads(out.read_text())
    runs = data["runs"]
    assert sorted((r["mode"], r["guests"]) for r in runs) == [
        ("sidecore", 1), ("sidecore", 2), ("trap", 1), ("trap", 2)], runs
    for r in runs:
        assert r["rps"] > 0, r
        assert len(r["per_guest"]) == r["guests"], r
        for g, p in r["per_guest"].items():
            assert p["requests_guest"] > 0, (g, p)
            # Sidecore counts every request the guest made (those before the
            # first snapshot too, when the host was slow to take it).
            assert 0 < p["requests"] <= p["requests_guest"], (g, p)
            assert p["msi"] <= p["requests"] + 1, (g, p)
        if r["mode"] == "trap":
            assert r["exits_io_per_req"] >= 0.99, r  # each request's notification exits
            assert r["sidecore_busy"] is None, r
        else:
            assert 0 <= r["sidecore_busy"] <= 1, r
    text = out.with_suffix(".txt").read_text()
    assert "requests/s (guest)" in text and "one sidecore serves" in text, text
    assert data["served"].keys() == {"sidecore/qd1", "trap/qd1"}, data["served"]
