"""The doctor tests' fixtures: the doctor run through its command line, the emulator for a topology,
a stand-alone DNS server, TLS listeners and the DNS records that point at them, all on loopback.

Everything listens on 127.0.0.1 with port 0 and stops at teardown. The doctor never dials a
modelled address: emulator mode goes through the gateway; network-mode tests set
ARCLINK_DOCTOR_LOOPBACK_ONLY so that nothing but loopback can be dialled even by mistake.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import ssl
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from arclink import pki
from arclink.cli.main import main
from arclink.model import catalogue as cat

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ARC = [r.fqdn for r in cat.arc_records("westeurope")]
PUBLIC = [p.name for p in cat.public_endpoints("westeurope")]


def private_records(base: str = "10.10.1.") -> dict:
    recs = {}
    for i, r in enumerate(cat.arc_records("westeurope")):
        recs[r.fqdn] = f"cname:{r.private_fqdn}"
        recs[r.private_fqdn] = f"{base}{4 + i}"
    for n in PUBLIC:
        recs[n] = cat.public_address(n)
    return recs


# --- the doctor through its command line, and reading its JSON report ---------------------------


def doctor(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["doctor", *args])
    return rc, out.getvalue(), err.getvalue()


def doctor_json(*args: str) -> tuple[int, dict]:
    rc, out, err = doctor(*args, "--json")
    assert "Traceback" not in err, err
    return rc, json.loads(out)


def emulator_args(endpoints_path, site: str, topology=None) -> list[str]:
    """``--emulator P --site S``; plus the topology when the emulator has no ARM to fetch the model from."""
    args = ["--emulator", str(endpoints_path), "--site", site]
    if topology is not None and not FULL_EMULATOR.get(str(endpoints_path)):
        args += ["--topology", str(topology)]
    return args


def by_id(report: dict, cid: str) -> dict[str, dict]:
    return {c["target"]: c for c in report["checks"] if c["id"] == cid}


def failing(report: dict) -> set[tuple[str, str]]:
    return {(c["id"], c["target"]) for c in report["checks"] if c["status"] == "fail"}


def diagnosis_text(report: dict) -> str:
    return "\n".join(d["text"] for d in report["diagnosis"])


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

# The examples Azure refuses at write time (two scopes on one VNet, a region mismatch, cluster
# connect with private link): the whole emulator refuses them too, so the doctor meets them through
# the DNS server and the gateway alone. Every other example must be served whole.
REFUSED_BY_ARM = {"broken/cluster-connect-enabled.yaml", "broken/region-mismatch.yaml",
                  "broken/two-scopes-one-vnet.yaml"}


@contextmanager
def emulator(topology: Path, state_dir: Path):
    """Start the emulator for ``topology``; yields (endpoints.json path, endpoints, index).

    The whole emulator (``start_services``) for a topology it accepts; for one of REFUSED_BY_ARM,
    after checking that the whole emulator does refuse it, the DNS server and the gateway on a
    LiveState of the same topology.
    """
    from arclink.arm.errors import ArmError
    from arclink.stack import StackError, start_services
    from arclink.model.loader import load

    def start_whole():
        return start_services(state_dir, in_memory=True, host="127.0.0.1", arm_port=0, dns_port=0,
                              gateway_port=0, topology=load(topology).topology)

    refused = topology.is_relative_to(EXAMPLES) and topology.relative_to(EXAMPLES).as_posix() in REFUSED_BY_ARM
    if not refused:
        services = start_whole()
        try:
            path = state_dir / "endpoints.json"
            if not path.exists():
                path.write_text(json.dumps(services.endpoints))
            FULL_EMULATOR[str(path)] = True
            yield path, services.endpoints, services.live.index
        finally:
            services.stop()
        return
    with pytest.raises((ArmError, StackError)):
        start_whole().stop()
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

    def __init__(self, records: dict[str, str | list[str]], silent: bool = False, rcode: int | None = None):
        import socket

        self.rcode = rcode  # answer every query with this rcode and nothing else (5: REFUSED)
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
            if self.rcode is not None:
                reply.header.rcode = self.rcode
                self.sock.sendto(reply.pack(), addr)
                continue
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

    def make(records, silent=False, rcode=None):
        s = StubDns(records, silent, rcode)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


# --- TCP and TLS listeners on loopback --------------------------------------------------------


class TlsServer:
    """Accepts TLS on 127.0.0.1 with a given certificate; or, with ``tls=False``, accepts and stays silent."""

    def __init__(self, cert=None, key=None, tls=True):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert, key)
        self._stop = threading.Event()
        self._conns = []
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self._conns.append(conn)
            if self.ctx is not None:
                threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()

    def _handshake(self, conn):
        try:
            conn.settimeout(3)
            s = self.ctx.wrap_socket(conn, server_side=True)
            s.recv(1)
        except (OSError, ssl.SSLError):
            pass

    def close(self):
        self._stop.set()
        self._t.join(2)
        for c in self._conns:
            c.close()
        self.sock.close()


@pytest.fixture
def tls_server(tmp_path):
    made = []

    def make(names=None, tls=True):
        cert = key = None
        if tls:
            ca = pki.ensure_ca(tmp_path / "ca")
            cert_pem, key_pem = pki.issue_server_cert(ca, names)
            cert, key = pki.write_leaf(tmp_path / f"leaf{len(made)}", "leaf", cert_pem, key_pem)
        s = TlsServer(cert, key, tls)
        made.append(s)
        return s, str(tmp_path / "ca" / "ca.pem")

    yield make
    for s in made:
        s.close()


def loopback_records() -> dict:
    recs = {n: "127.0.0.1" for n in ARC}
    recs.update({n: "127.0.0.1" for n in PUBLIC})
    return recs
