"""The gateway caps connections per source (the socket's peer, not the PROXY header's source) and in total."""

from __future__ import annotations

import time

import pytest

from arclink.limits import Limits
from limits_fixtures import closed_by_server, gateway_dial, still_open


@pytest.fixture
def stack(tmp_path):
    from arclink.stack import start_services

    svc = start_services(tmp_path, in_memory=True,
                         limits=Limits(gateway_max_connections=50, gateway_max_connections_per_source=3,
                                       handshake_timeout=60))
    yield svc
    svc.stop()


def test_connections_from_one_source_are_capped(stack):
    ep = stack.endpoints
    held = [gateway_dial(ep) for _ in range(3)]
    assert closed_by_server(gateway_dial(ep), within=5)
    assert all(still_open(s) for s in held)
    other = gateway_dial(ep, "127.0.0.3")
    assert still_open(other) and not closed_by_server(other, within=0.3)
    gw = stack._handles[1]
    assert gw.counters.get("overloaded", 0) >= 1
    for s in held + [other]:
        s.close()
    deadline = time.monotonic() + 10
    while gw.gateway.counted.open:  # closed connections are uncounted
        assert time.monotonic() < deadline
        time.sleep(0.02)
