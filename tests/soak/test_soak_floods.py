"""Floods against `arclink serve` on 127.0.0.1: each face stays bounded and the others keep serving.

Each scenario floods one listener from 127.0.0.2 beyond its per-source cap (limits lowered by the
serve flags so that a few hundred connections suffice), and while the flood holds checks that a
legitimate client on 127.0.0.1 is served: an ARM GET, a DNS query over UDP and over TCP, and an
agent's admission through the gateway (`arclink connect`). Then the flood is closed, the server's
descriptors drain, and its resident memory must be back within ``RSS_GROWTH_KB`` of where it was.
"""

from __future__ import annotations

import contextlib
import select
import ssl
import time

import pytest

from limits_fixtures import (arm_get, dns_frame, dns_rcode, dns_tcp_dial, gateway_dial,
                             open_fds, rss_kb, serve, still_open, tls_dial)

pytestmark = pytest.mark.slow

FLOOD = 300  # connections per scenario: three times the per-source cap below
PER_SOURCE = 100
FLAGS = ("--max-connections", "400", "--max-connections-per-source", str(PER_SOURCE),
         "--gateway-max-connections", "400", "--gateway-max-connections-per-source", str(PER_SOURCE),
         "--handshake-timeout", "60", "--header-timeout", "60", "--idle-timeout", "60")
RSS_GROWTH_KB = 48 * 1024  # after a flood drains; the peak is bounded by the caps
DRAIN_SECONDS = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from arclink.agent.arm_client import ArmClient, Endpoints
    from arclink.cli.demo import apply_seed_steps

    state = tmp_path_factory.mktemp("soak")
    with serve(state, *FLAGS) as (proc, ep):
        arm = ArmClient(Endpoints.load(state / "endpoints.json"))
        apply_seed_steps(arm)
        arm.close()
        # warm every face once, so that the baseline holds what a first request allocates
        assert arm_get(ep) == 200 and dns_rcode(ep, tcp=True) == 0
        proc.state, proc.ep, proc.agents = state, ep, 0
        proc.baseline_fds = open_fds(proc.pid)
        yield proc


def _agent_admitted(server) -> bool:
    from arclink.cli.demo import CLUSTER_RG, scope_id
    from arclink.cli.main import main

    server.agents += 1
    name = f"soak-{server.agents}"
    code = main(["connect", "-g", CLUSTER_RG, "-n", name, "-l", "westeurope", "--site", "store-amsterdam",
                 "--address", f"192.168.10.{100 + server.agents}", "--yes", "--key-type", "ec",
                 "--emulator", str(server.state / "endpoints.json"), "--enable-private-link", "true",
                 "--pls-arm-id", scope_id(server.ep["subscription"]), "-o", "json"])
    return code == 0


def _legitimate_clients_served(server) -> None:
    ep = server.ep
    assert arm_get(ep) == 200
    assert dns_rcode(ep, tcp=False) == 0
    assert dns_rcode(ep, tcp=True) == 0
    assert _agent_admitted(server)


def _drained(server) -> None:
    """Wait until the server holds no more descriptors than before the flood (every flood socket closed)."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while open_fds(server.pid) > server.baseline_fds + 8:
        assert time.monotonic() < deadline, f"{open_fds(server.pid)} descriptors still open after the flood"
        time.sleep(0.05)


@contextlib.contextmanager
def _measured(server):
    before = rss_kb(server.pid)
    peak = [before]
    yield peak
    _drained(server)
    after = rss_kb(server.pid)
    print(f"RSS before {before} kB, peak {max(peak)} kB, after {after} kB")
    assert after - before < RSS_GROWTH_KB, f"RSS grew from {before} kB to {after} kB and stayed"


def _close(socks) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.close()


def _flood(dial, n: int = FLOOD, expect_refused: int = 0) -> tuple[list, int]:
    """Dial ``n`` connections; those the server keeps, and how many it refused (failed, closed or reset).

    A refused plain TCP connection is accepted by the kernel and closed by the server a moment
    later: wait (bounded) until ``expect_refused`` of them have closed before counting.
    """
    kept, refused = [], 0
    for _ in range(n):
        try:
            kept.append(dial())
        except (OSError, ssl.SSLError):
            refused += 1
    plain = [s for s in kept if not isinstance(s, ssl.SSLSocket)]
    deadline = time.monotonic() + 20
    closed: set = set()
    while plain and refused + len(closed) < expect_refused and time.monotonic() < deadline:
        readable, _, _ = select.select([s for s in plain if s not in closed], [], [], 0.2)
        for s in readable:
            if not still_open(s):
                closed.add(s)
    for s in closed:
        s.close()
    return [s for s in kept if s not in closed], refused + len(closed)


def test_idle_tls_connections_to_arm_beyond_the_cap(server):
    with _measured(server) as peak:
        alive, refused = _flood(lambda: tls_dial(server.ep))
        peak.append(rss_kb(server.pid))
        try:
            assert len(alive) <= PER_SOURCE and refused >= FLOOD - PER_SOURCE
            _legitimate_clients_served(server)
        finally:
            _close(alive)


def test_never_ending_header_lines_to_arm(server):
    with _measured(server) as peak:
        alive, _ = _flood(lambda: tls_dial(server.ep), PER_SOURCE)
        try:
            for s in alive:
                s.sendall(b"GET /subscriptions HTTP/1.1\r\nHost: localhost\r\nX-Endless: ")
            for _round in range(8):  # 8 x 8 KiB per connection: twice the default head limit
                for s in alive:
                    with contextlib.suppress(OSError):
                        s.sendall(b"a" * 8192)
            peak.append(rss_kb(server.pid))
            _legitimate_clients_served(server)
            answers = 0
            for s in alive:
                s.settimeout(10)
                with contextlib.suppress(OSError):
                    answers += s.recv(64).startswith(b"HTTP/1.1 431 ")
            assert answers == len(alive)
        finally:
            _close(alive)


def test_trickling_dns_tcp_connections_beyond_the_cap(server):
    import dns.message

    frame = dns_frame(dns.message.make_query("gbl.his.arc.azure.com", "A").to_wire())
    with _measured(server) as peak:
        alive, refused = _flood(lambda: dns_tcp_dial(server.ep), expect_refused=FLOOD - PER_SOURCE)
        try:
            assert len(alive) <= PER_SOURCE and refused >= FLOOD - PER_SOURCE
            for byte in frame[:3]:  # a byte at a time, never a whole message
                for s in alive:
                    with contextlib.suppress(OSError):
                        s.sendall(bytes([byte]))
            peak.append(rss_kb(server.pid))
            _legitimate_clients_served(server)
        finally:
            _close(alive)


def test_idle_gateway_connections_beyond_the_cap(server):
    with _measured(server) as peak:
        alive, refused = _flood(lambda: gateway_dial(server.ep), expect_refused=FLOOD - PER_SOURCE)
        try:
            assert len(alive) <= PER_SOURCE and refused >= FLOOD - PER_SOURCE
            peak.append(rss_kb(server.pid))
            _legitimate_clients_served(server)
        finally:
            _close(alive)


def test_a_listener_at_the_descriptor_reserve_leaves_the_others_serving(tmp_path):
    """With few descriptors (RLIMIT_NOFILE 256), a DNS-TCP flood stops at the reserve; ARM, DNS over UDP and the
    gateway still answer (DNS over TCP, the flooded listener, refuses until its connections close)."""
    import resource

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    with serve(tmp_path, "--max-connections", "1000", "--max-connections-per-source", "1000", "--fd-reserve", "64",
               "--idle-timeout", "60", preexec=few_descriptors) as (proc, ep):
        # DNS has a process of its own, and so a descriptor table of its own: its three standard
        # descriptors at least are below the reserve, so at most 256 - 64 - 3 connections are kept
        # (waiting for fewer refusals would count some the server has yet to close)
        alive, refused = _flood(lambda: dns_tcp_dial(ep), 400, expect_refused=400 - (256 - 64 - 3))
        try:
            assert refused > 0 and len(alive) < 256 - 64
            assert arm_get(ep) == 200  # another face: it may use the reserve
            assert dns_rcode(ep, tcp=False) == 0  # UDP needs no descriptor
            gw = gateway_dial(ep, "127.0.0.1")
            assert still_open(gw)
            gw.close()
        finally:
            _close(alive)
