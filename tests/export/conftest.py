"""Fixtures for the export tests: the good example, arclink's DNS server, and a stand-in for
the Azure DNS private resolver inbound endpoint, all on 127.0.0.1.

The on-premises engines forward to the resolver's inbound endpoint (10.10.3.4 in the
example). Nothing may be sent there, so the configs are rendered with that address mapped
to a loopback stand-in: it relays each query to arclink's DNS server with an EDNS Client
Subnet option naming 10.10.3.4/32, which makes arclink answer as Azure DNS answers a
query arriving at that endpoint (the VNet's private zone links decide).
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

import dns.edns
import dns.message
import dns.query
import dns.rdatatype
import pytest

from arclink.model.loader import load

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "examples" / "good.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SERVICE_TAGS = FIXTURES / "ServiceTags_Public_sample.json"


@pytest.fixture(scope="session")
def good_index():
    return load(GOOD)


@pytest.fixture(scope="session")
def arclink_dns(good_index):
    from arclink.dns.server import start_dns_server

    server = start_dns_server(good_index, "127.0.0.1", 0)
    yield server
    server.close()


class ResolverStandIn:
    """UDP relay on loopback: adds ECS ``client/32`` and asks arclink's DNS server."""

    def __init__(self, upstream: tuple[str, int], client: str):
        self.upstream, self.client = upstream, client
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            try:
                q = dns.message.from_wire(data)
                relay = dns.message.make_query(q.question[0].name, q.question[0].rdtype)
                relay.use_edns(0, payload=1232, options=[dns.edns.ECSOption(self.client, 32)])
                r = dns.query.udp(relay, self.upstream[0], port=self.upstream[1], timeout=2)
                r.id = q.id
                r.use_edns(0 if q.edns >= 0 else -1, payload=1232)
                self.queries += 1
                self.sock.sendto(r.to_wire(), peer)
            except Exception:  # a malformed probe must not kill the relay
                continue

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="session")
def resolver_standin(arclink_dns, good_index):
    fwd = next(iter(good_index.forwarders.values()))
    relay = ResolverStandIn((arclink_dns.host, arclink_dns.port), str(fwd.ip))
    yield relay
    relay.close()


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def a_records(port: int, name: str, timeout: float = 2.0) -> list[str]:
    q = dns.message.make_query(name, "A")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
    return sorted(rd.address for rrset in r.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset)


class Engine:
    """A DNS engine process started on loopback; stopped by ``close``."""

    def __init__(self, argv: list[str], port: int, probe: str, log: Path):
        self.port = port
        self.log = log
        self.fh = open(log, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.fh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                self.fh.flush()
                raise AssertionError(f"{argv[0]} exited with {self.proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                q = dns.message.make_query(probe, "SOA")
                dns.query.udp(q, "127.0.0.1", port=port, timeout=0.3)
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.close()
                    raise AssertionError(f"{argv[0]} did not answer on port {port}:\n{log.read_text(errors='replace')}")
                time.sleep(0.1)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.fh.close()


@pytest.fixture
def engines():
    started: list[Engine] = []

    def start(argv, port, probe, log):
        e = Engine(argv, port, probe, log)
        started.append(e)
        return e

    yield start
    for e in started:
        e.close()
