"""Fixtures of the DNS tests: one world, one live server on 127.0.0.1 port 0 per module."""

from __future__ import annotations

import pytest

from dns_fixtures import build

from arclink.dns.server import start_dns_server
from arclink.model.live import LiveState


@pytest.fixture(scope="module")
def index():
    return build()


@pytest.fixture(scope="module")
def server(index):
    srv = start_dns_server(LiveState(index))
    yield srv
    srv.close()
