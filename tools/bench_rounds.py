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
