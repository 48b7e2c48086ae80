"""Fixtures of the gateway tests."""

from __future__ import annotations

import pytest

from gateway_fixtures import World


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.gw.close()
