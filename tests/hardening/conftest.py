"""The fixture the listener-limit tests share: whole emulators started with the limits a test names."""

from __future__ import annotations

import pytest

from arclink.limits import Limits


@pytest.fixture
def stack(tmp_path):
    """``stack(**limits)`` starts an in-memory emulator with those limits and gives its endpoints;
    every one started is stopped after the test."""
    from arclink.stack import start_services

    started = []

    def start(**limits):
        svc = start_services(tmp_path / f"s{len(started)}", in_memory=True, limits=Limits(**limits))
        started.append(svc)
        return svc.endpoints

    yield start
    for svc in started:
        svc.stop()
