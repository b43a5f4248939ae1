# SPDX-License-Identifier: MIT
"""Rounds of a benchmark whose two sides take turns (issue 17): the median of
each side's per-round values with their spread (lowest to highest), and a
verdict that says "no clear difference" where the two spreads overlap.
Emulators on a shared machine are noisy; a difference is only called when
every round of one side is beyond every round of the other. Pure logic, no
emulator: tests/system/test_bench_rounds.py checks it."""

import statistics


def summary(values):
    """{"median", "min", "max", "n", "values"} of the numbers that are not None;
    None when there are none."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "n": len(vals), "values": list(values)}


def overlap(a, b):
    """Whether the spreads (min..max) of two summaries touch."""
    return a["min"] <= b["max"] and b["min"] <= a["max"]


def verdict(a, b, names=("a", "b")):
    """"no clear difference" when the spreads overlap (or a side has no
    value), else which side's values are higher and by what ratio of medians."""
    if a is None or b is None or overlap(a, b):
        return "no clear difference"
    hi, lo = (a, b) if a["min"] > b["max"] else (b, a)
    name = names[0] if hi is a else names[1]
    if lo["median"] > 0:
        return f"{name} higher, x{hi['median'] / lo['median']:.2f}"
    return f"{name} higher"


def cell(s, fmt):
    """A table cell: the median, then the spread in brackets (one value: no spread)."""
    if s is None:
        return "-"
    if s["n"] == 1 or s["min"] == s["max"]:
        return fmt.format(s["median"])
    return f"{fmt.format(s['median'])} [{fmt.format(s['min'])}-{fmt.format(s['max'])}]"


def turn_order(sides, round_index):
    """The order in which the sides run in a round: as given in even rounds,
    reversed in odd ones, so neither side always runs first."""
    sides = list(sides)
    return sides if round_index % 2 == 0 else sides[::-1]


# ----- for benchmarks of more than two sides (bench_nvme.py) and their files -----

def order(sides, round_index):
    """The sides in the order round round_index runs them, rotated by one each
    round, so that with N sides every side takes every position once in N
    rounds (turn_order does the same for two)."""
    k = round_index % len(sides)
    return list(sides[k:]) + list(sides[:k])


def ratio_verdict(a, b, higher="higher", lower="lower"):
    """a against a baseline b: the ratio of the medians, then "no clear
    difference" where the spreads overlap, or higher/lower (the caller's words:
    "slower"/"faster" for times). One round shows no spread, and says so."""
    if a is None or b is None or not b["median"]:
        return "-"
    ratio = a["median"] / b["median"]
    if a["n"] < 2 or b["n"] < 2:
        return f"{ratio:.2f}x (one round: no spread to judge)"
    if overlap(a, b):
        return f"{ratio:.2f}x, no clear difference (spreads overlap)"
    return f"{ratio:.2f}x, {higher if a['median'] > b['median'] else lower}"


def write_json(path, benchmark, settings, runs):
    """Writes {"benchmark", "when", "settings", "runs"} to path (directories made)
    and returns the path; runs: one dict per run (side, round, numbers, errors)."""
    import json
    import time
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"benchmark": benchmark, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "settings": settings, "runs": runs}
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return path


def default_json_path(build, benchmark):
    """BUILD/bench/BENCHMARK-YYYYmmdd-HHMMSS.json."""
    import time
    from pathlib import Path

    return Path(build) / "bench" / f"{benchmark}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
