"""Support for the doctor tests: the emulator's DNS server and gateway on loopback for a topology, and a stand-alone DNS server.

Everything listens on 127.0.0.1 with port 0 and stops at teardown. The doctor never dials a
modelled address: emulator mode goes through the gateway; network-mode tests set
ARCLINK_DOCTOR_LOOPBACK_ONLY so that nothing but loopback can be dialled even by mistake.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def endpoints_doc(**keys) -> dict:
    """An endpoints.json with every key design.md lists; the ARM entries point nowhere (port 1) since
    the data-plane-only emulator has no ARM, and the tests give --topology instead."""
    doc = {"arm": "https://127.0.0.1:1", "ca_cert": "/nonexistent/ca.pem", "token": "unused",
           "subscription": "00000000-0000-0000-0000-000000000000", "tenant": "00000000-0000-0000-0000-000000000000",
           "dns": {"host": "127.0.0.1", "port": 1}, "gateway": {"host": "127.0.0.1", "port": 1}, "pid": 0}
    doc.update(keys)
    return {k: v for k, v in doc.items() if v is not None}


# endpoints.json path -> True when the whole emulator (ARM included) serves it, so the doctor can
# fetch the model itself; False for the data plane alone (the tests then give --topology).
FULL_EMULATOR: dict[str, bool] = {}


def _start_full(topology: Path, state_dir: Path):
    """The whole emulator seeded with ``topology``, or None when it refuses the topology at write time (two scopes in one VNet, region mismatches: Azure refuses those too)."""
    from arclink.arm.errors import ArmError
    from arclink.stack import StackError, start_services
    from arclink.model.loader import load

    try:
        return start_services(state_dir, in_memory=True, host="127.0.0.1", arm_port=0, dns_port=0,
                              gateway_port=0, topology=load(topology).topology)
    except (ArmError, StackError):
        return None


@contextmanager
def emulator(topology: Path, state_dir: Path):
    """Start the emulator for ``topology``; yields (endpoints.json path, endpoints, index).

    ``arclink.stack.start_services`` when it exists and accepts the topology (the whole
    emulator), else the DNS server and the gateway on a LiveState of the same topology.
    """
    from arclink.model.loader import load

    services = _start_full(topology, state_dir)
    if services is not None:
        try:
            path = state_dir / "endpoints.json"
            if not path.exists():
                path.write_text(json.dumps(services.endpoints))
            FULL_EMULATOR[str(path)] = True
            yield path, services.endpoints, services.live.index
        finally:
            services.stop()
        return
    from arclink import pki
    from arclink.dns.server import start_dns_server
    from arclink.gateway.server import start_gateway
    from arclink.model.live import LiveState

    index = load(topology)
    live = LiveState(index)
    ca = pki.ensure_ca(state_dir)
    dns = start_dns_server(live, "127.0.0.1", 0)
    gw = start_gateway(live, state_dir, "127.0.0.1", 0)
    try:
        endpoints = endpoints_doc(ca_cert=str(ca.cert_path), dns={"host": "127.0.0.1", "port": dns.port},
                                  gateway={"host": "127.0.0.1", "port": gw.port})
        path = state_dir / "endpoints.json"
        path.write_text(json.dumps(endpoints))
        FULL_EMULATOR[str(path)] = False
        yield path, endpoints, index
    finally:
        dns.close()
        gw.close()


@pytest.fixture
def run_emulator(tmp_path):
    """A factory: run_emulator('good.yaml') -> (endpoints path, endpoints, index); stopped at teardown."""
    stack = []

    def start(name: str):
        topo = EXAMPLES / name
        cm = emulator(topo, tmp_path / f"state-{len(stack)}")
        stack.append(cm)
        return cm.__enter__()

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


class StubDns:
    """A loopback DNS server answering fixed A records (and CNAMEs); unknown names get NXDOMAIN.

    For network-mode tests: the doctor's --dns-server pointed at it, never the real internet.
    """

    def __init__(self, records: dict[str, str | list[str]], silent: bool = False):
        import socket

        self.records = {k.lower().rstrip("."): v for k, v in records.items()}
        self.silent = silent
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        from dnslib import QTYPE, RR, A, CNAME, DNSRecord

        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except OSError:
                continue
            if self.silent:
                continue
            try:
                q = DNSRecord.parse(data)
            except Exception:  # noqa: BLE001
                continue
            reply = q.reply()
            name = str(q.q.qname).rstrip(".").lower()
            found = False
            for _ in range(4):
                value = self.records.get(name)
                if value is None:
                    break
                if isinstance(value, str) and value.startswith("cname:"):
                    target = value[6:]
                    reply.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(target), ttl=60))
                    name = target
                    continue
                for a in [value] if isinstance(value, str) else value:
                    reply.add_answer(RR(name, QTYPE.A, rdata=A(a), ttl=60))
                found = True
                break
            if not found:
                reply.header.rcode = 3  # NXDOMAIN: the last name of the chain does not exist
            self.sock.sendto(reply.pack(), addr)

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def stub_dns():
    made = []

    def make(records, silent=False):
        s = StubDns(records, silent)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
