# SPDX-License-Identifier: MIT
"""Fixtures for the system tests: `machine` starts emulators named after the test
and always kills them afterwards; a failing test's report lists its log files."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from machine import Machine  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    logs = getattr(item, "machine_logs", [])
    if rep.failed and logs:
        rep.sections.append(("machine logs (kept)", "\n".join(str(p) for p in logs)))


@pytest.fixture
def machine(request):
    """machine(**options) -> a started Machine (see machine.py for the options),
    logging to build/test-logs/<test name>[-<suffix>].log. Closed at the end of the test."""
    made = []

    def start(suffix="", **options):
        name = request.node.name + (f"-{suffix}" if suffix else "")
        m = Machine(name, **options)
        made.append(m)
        request.node.machine_logs = getattr(request.node, "machine_logs", []) + [m.log_path]
        return m.start()

    yield start
    for m in made:
        m.close()
