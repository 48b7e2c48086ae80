"""Timeouts are bounded: silent DNS servers and silent TCP listeners on loopback; the run returns.

No guess at how fast the machine is: where a bound is asserted it is the doctor's own clock against
a timeout it could not have beaten; otherwise a generous pytest-timeout is the bound.
"""

from __future__ import annotations

import json

import pytest

from arclink.doctor import Config, Emulator, run
from arclink.model.loader import load

from doctor_fixtures import EXAMPLES, TlsServer, by_id, diagnosis_text, doctor_json, loopback_records

pytestmark = pytest.mark.timeout(40)


def test_silent_dns_server(stub_dns):
    dns = stub_dns({}, silent=True)
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "-p", "--explain")
    assert rc == 1
    for c in by_id(rep, "DNS001").values():
        assert c["status"] == "fail" and c["evidence"]["dns"]["rcode"] == "TIMEOUT"
    assert all(c["status"] == "fail" for c in by_id(rep, "PUB001").values())
    assert "does not answer" in diagnosis_text(rep)


def test_silent_tls_listener(stub_dns):
    server = TlsServer(tls=False)  # accepts TCP, never speaks TLS
    try:
        dns = stub_dns(loopback_records())
        rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "--port", str(server.port),
                              "--timeout", "0.5")
    finally:
        server.close()
    assert rc == 1
    c = by_id(rep, "TLS001")["gbl.his.arc.azure.com"]
    assert c["status"] == "fail" and c["evidence"]["tls"] == "timeout"
    assert by_id(rep, "NET001")["gbl.his.arc.azure.com"]["status"] == "pass"


def test_emulator_that_does_not_answer(stub_dns, tmp_path):
    dns = stub_dns({}, silent=True)
    gw = TlsServer(tls=False)
    try:
        endpoints = {"dns": {"host": "127.0.0.1", "port": dns.port},
                     "gateway": {"host": "127.0.0.1", "port": gw.port}, "ca_cert": str(tmp_path / "none.pem")}
        path = tmp_path / "endpoints.json"
        path.write_text(json.dumps(endpoints))
        cfg = Config(enable_pls_check=True, explain=True, timeout=1.0,
                     emulator=Emulator(endpoints, load(EXAMPLES / "good.yaml"), "store-amsterdam"))
        report = run(cfg)
    finally:
        gw.close()
    assert report.exit_code == 1
    dns001 = [c for c in report.checks if c.id == "DNS001"]
    assert dns001 and all(c.status == "fail" for c in dns001)
    assert any("does not answer" in d.text for d in report.diagnosis)


def test_run_deadline_cuts_long_timeouts(stub_dns):
    """A silent server makes every lookup wait out its timeout unless the run's deadline cuts it.

    The bound is the doctor's own clock and the probes' own: without the deadline no lookup can
    end before its 20 s timeout, so neither the run nor any probe can report less than 20 s.
    """
    dns = stub_dns({}, silent=True)
    timeout = 20
    report = run(Config(location="westeurope", dns_servers=[("127.0.0.1", dns.port)], timeout=timeout, deadline=1.0,
                        loopback_only=True))
    assert report.exit_code == 1
    assert all(c.status in ("fail", "skip") for c in report.checks)
    assert {c.id for c in report.checks if c.status == "fail"} >= {"DNS001", "PUB001"}
    assert report.elapsed_ms < timeout * 1000, "the run outlasted a single probe's timeout: no deadline cut it"
    rows = [c for c in report.checks if c.id == "DNS001"]
    assert rows
    for c in rows:
        lookup = c.evidence.get("dns")
        if lookup is None:  # the deadline came before the lookup ended
            assert "deadline" in c.summary, c.summary
        else:  # the lookup's own wait was shortened to what was left of the run
            assert lookup["rcode"] == "TIMEOUT" and lookup["elapsedMs"] < timeout * 1000, lookup


def test_a_crashing_probe_fails_its_rows_not_the_run(stub_dns, monkeypatch):
    from arclink.doctor import probes

    async def broken(*a, **k):
        raise RuntimeError("probe exploded")

    monkeypatch.setattr(probes, "tcp_tls_probe", broken)
    dns = stub_dns(loopback_records())
    report = run(Config(dns_servers=[("127.0.0.1", dns.port)], loopback_only=True))
    net = [c for c in report.checks if c.id == "NET001"]
    assert net and all(c.status == "fail" and "probe exploded" in c.summary for c in net)
    assert all(c.status == "pass" for c in report.checks if c.id == "DNS001")
