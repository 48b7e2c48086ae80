"""Garbage, half-open and slow connections, oversize messages and 1,000 concurrent agents."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import ssl
import time

import pytest

from arclink.model.wire import encode_proxy_v2
from gateway_fixtures import World


@pytest.fixture
def strict(tmp_path):
    w = World(tmp_path, header_timeout=0.3, handshake_timeout=0.5, idle_timeout=2.0)
    yield w
    w.gw.close()


def _closed_by_server(sock: socket.socket, within: float = 3.0) -> bool:
    sock.settimeout(within)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    finally:
        sock.close()


def _dial(w: World) -> socket.socket:
    return socket.create_connection(("127.0.0.1", w.gw.port), timeout=3)


def test_garbage_bytes_are_dropped(strict):
    for blob in (os.urandom(4096), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\r\n\r\n\x00\r\nQUIT\n" + os.urandom(100)):
        s = _dial(strict)
        s.sendall(blob)
        assert _closed_by_server(s)
    assert strict.gw.counters["bad_header"] == 3
    assert strict.run("ok").status == "Connected"


def test_tls_without_proxy_header_is_dropped(strict):
    ctx = ssl.create_default_context(cafile=str(strict.state_dir / "ca.pem"))
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        with ctx.wrap_socket(_dial(strict), server_hostname="gbl.his.arc.azure.com") as t:
            t.recv(1)
    assert strict.run("ok").status == "Connected"


def test_half_open_and_slow_connections_are_closed(strict):
    silent = [_dial(strict) for _ in range(20)]
    partial = []
    for _ in range(20):
        s = _dial(strict)
        s.sendall(encode_proxy_v2("192.168.10.10", "10.10.1.4")[:7])
        partial.append(s)
    no_tls = []
    for _ in range(20):  # a complete header, then nothing: the TLS handshake times out
        s = _dial(strict)
        s.sendall(encode_proxy_v2("192.168.10.10", "10.10.1.4"))
        no_tls.append(s)
    # a slow drip: one byte every 0.1 s never finishes the header in time
    drip = _dial(strict)
    header = encode_proxy_v2("192.168.10.10", "10.10.1.4")
    sent = 0
    try:
        for b in header:
            drip.sendall(bytes([b]))
            sent += 1
            time.sleep(0.1)
    except OSError:
        pass
    assert sent < len(header), "the server let a dripping client finish its PROXY header"
    assert _closed_by_server(drip)
    assert all(_closed_by_server(s) for s in silent + partial + no_tls)
    assert strict.run("ok").status == "Connected"


def test_silent_after_tls_and_oversize_messages(strict):
    async def scenario():
        ctx = ssl.create_default_context(cafile=str(strict.state_dir / "ca.pem"))
        # TLS done, no hello: closed after the handshake timeout
        r, w = await asyncio.open_connection("127.0.0.1", strict.gw.port)
        w.write(encode_proxy_v2("192.168.10.10", "10.10.1.4"))
        await w.drain()
        await w.start_tls(ctx, server_hostname="gbl.his.arc.azure.com")
        refused = await asyncio.wait_for(r.readline(), 3)
        assert b"BadHandshake" in refused
        w.close()
        # a 1 MiB line: refused, not buffered
        r, w = await asyncio.open_connection("127.0.0.1", strict.gw.port)
        w.write(encode_proxy_v2("192.168.10.10", "10.10.1.4"))
        await w.drain()
        await w.start_tls(ctx, server_hostname="gbl.his.arc.azure.com")
        w.write(b"x" * (1 << 20) + b"\n")
        try:
            await w.drain()
        except ConnectionError:
            pass
        answer = await asyncio.wait_for(r.read(), 3)
        w.close()
        return answer
    answer = asyncio.run(scenario())
    assert b"BadHandshake" in answer or answer == b""
    assert strict.run("ok").status == "Connected"


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_thousand_concurrent_agents(world):
    n = 1000

    async def scenario():
        agents = [world.agent("ok") for _ in range(n)]
        sem = asyncio.Semaphore(200)  # how many handshakes are in flight; all sessions stay open

        async def one(a):
            async with sem:
                s = await a.open(a.config_name)
            return s

        sessions = await asyncio.gather(*(one(a) for a in agents))
        rss_open = _rss_mb()
        acks = await asyncio.gather(*(s.request("heartbeat", 30) for s in sessions))
        await asyncio.gather(*(s.close() for s in sessions))
        return acks, rss_open

    before = _rss_mb()
    acks, rss_open = asyncio.run(scenario())
    assert len(acks) == n and all(a["connectivityStatus"] == "Connected" for a in acks)
    assert world.gw.counters["admitted"] == n
    assert world.gw.counters.get("overloaded", 0) == 0
    # 1,000 open TLS sessions on both ends of one process: well under 1 MB each
    assert rss_open - before < 400, (before, rss_open)
    assert world.run("ok").status == "Connected"
