"""Network mode against loopback only: --dns-server at a local DNS server, TCP/TLS at local listeners.

ARCLINK_DOCTOR_LOOPBACK_ONLY (set by conftest) makes sure no modelled or public address is
ever dialled: such checks are skipped with "not dialled".
"""

from __future__ import annotations

import socket

from arclink.model import catalogue as cat

from doctor_fixtures import ARC, PUBLIC, by_id, diagnosis_text, doctor_json, failing, loopback_records, private_records


def test_private_answers_pass_and_nothing_is_dialled(stub_dns):
    dns = stub_dns(private_records())
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "-p")
    assert rc == 0, failing(rep)
    assert rep["mode"] == "network" and rep["options"]["dnsServer"] == f"127.0.0.1:{dns.port}"
    c = by_id(rep, "DNS001")["gbl.his.arc.azure.com"]
    assert c["evidence"]["dns"]["cnames"] == [{"name": "gbl.his.arc.azure.com",
                                               "target": "gbl.privatelink.his.arc.azure.com"}]
    for cid in ("NET001", "TLS001", "PUB002"):
        assert all(c["status"] == "skip" and "not dialled" in c["summary"] for c in by_id(rep, cid).values())
    assert by_id(rep, "DNS003")["*"]["status"] == "pass"


def test_the_next_dns_server_is_asked_when_one_refuses(stub_dns):
    """As a stub resolver does: REFUSED (or SERVFAIL, or no answer) moves on to the next nameserver."""
    refusing, good = stub_dns({}, rcode=5), stub_dns(private_records())
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{refusing.port}", "--dns-server", f"127.0.0.1:{good.port}",
                          "-l", "westeurope", "-p")
    assert rc == 0, failing(rep)
    assert rep["options"]["dnsServers"] == [f"127.0.0.1:{refusing.port}", f"127.0.0.1:{good.port}"]
    assert {c["evidence"]["dns"]["server"] for c in by_id(rep, "DNS001").values()} == {f"127.0.0.1:{good.port}"}


def test_an_nxdomain_is_an_answer_not_a_reason_to_ask_the_next_server(stub_dns):
    empty, good = stub_dns({}), stub_dns(private_records())
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{empty.port}", "--dns-server", f"127.0.0.1:{good.port}",
                          "-l", "westeurope", "-p")
    assert rc == 1
    rows = by_id(rep, "DNS001").values()
    assert rows and all(c["status"] == "fail" and c["evidence"]["dns"]["rcode"] == "NXDOMAIN"
                        and c["evidence"]["dns"]["server"] == f"127.0.0.1:{empty.port}" for c in rows)


def test_public_answers_fail_with_pls_check_and_explain(stub_dns):
    recs = private_records()
    for r in cat.arc_records("westeurope"):
        recs[r.private_fqdn] = cat.public_address(r.fqdn)
    dns = stub_dns(recs)
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "-p", "--explain")
    assert rc == 1
    assert {("DNS002", n) for n in ARC} <= failing(rep)
    text = diagnosis_text(rep)
    assert f"your DNS server 127.0.0.1:{dns.port} answers public addresses for gbl.his.arc.azure.com" in text
    assert "add a conditional forwarder for his.arc.azure.com to your DNS forwarder in Azure" in text
    # without --enable-pls-check public answers are acceptable, as with azcmagent check
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope")
    assert rc == 0, failing(rep)


def test_mixed_answers_fail_consistency(stub_dns):
    recs = private_records()
    for r in cat.arc_records("westeurope"):
        if r.zone.key == "dp":
            recs[r.private_fqdn] = cat.public_address(r.fqdn)
    dns = stub_dns(recs)
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "-p", "--explain")
    c = by_id(rep, "DNS003")["*"]
    assert rc == 1 and c["status"] == "fail"
    assert set(c["evidence"]["public"]) == {n for n in ARC if "dp.kubernetes" in n}
    assert "the conditional forwarders differ per zone" in diagnosis_text(rep)


def test_missing_record_and_private_public_endpoint(stub_dns):
    recs = private_records()
    del recs["gbl.privatelink.his.arc.azure.com"]
    recs["management.azure.com"] = "10.10.9.9"  # someone made ARM private
    dns = stub_dns(recs)
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "-p", "--explain")
    assert rc == 1
    assert by_id(rep, "DNS001")["gbl.his.arc.azure.com"]["evidence"]["dns"]["rcode"] == "NXDOMAIN"
    assert by_id(rep, "DNS002")["gbl.his.arc.azure.com"]["status"] == "skip"
    assert by_id(rep, "PUB001")["management.azure.com"]["status"] == "fail"
    text = diagnosis_text(rep)
    assert "has no address for gbl.his.arc.azure.com (NXDOMAIN)" in text
    assert "management.azure.com (Azure Resource Manager) resolves to 10.10.9.9" in text


def test_vnet_cidr(stub_dns):
    dns = stub_dns(private_records("10.30.0."))
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "-p",
                          "--vnet-cidr", "10.10.0.0/16", "--explain")
    assert rc == 1
    assert all(c["status"] == "fail" for c in by_id(rep, "DNS002").values())
    assert "outside 10.10.0.0/16" in diagnosis_text(rep)
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "-p",
                          "--vnet-cidr", "10.30.0.0/24")
    assert rc == 0, failing(rep)


def test_without_location_only_global_names(stub_dns):
    dns = stub_dns(private_records())
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-p")
    assert rc == 0
    assert set(by_id(rep, "DNS001")) == set(cat.SEED_CHECK_NAMES)
    assert "ATS001" not in {c["id"] for c in rep["checks"]}


# --- TCP and TLS against loopback listeners -----------------------------------------------------


def test_tcp_and_tls_through_loopback(stub_dns, tls_server):
    server, ca = tls_server(["*.his.arc.azure.com", "*.guestconfiguration.azure.com",
                             "dp.kubernetesconfiguration.azure.com", "*.dp.kubernetesconfiguration.azure.com",
                             "*.azure.com", "*.microsoftonline.com", "*.microsoft.com", "*.windows.net",
                             "*.data.mcr.microsoft.com", "*.login.microsoft.com"])
    dns = stub_dns(loopback_records())
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "--port", str(server.port),
                          "--ca-cert", ca)
    assert rc == 0, [c for c in rep["checks"] if c["status"] == "fail"]
    assert all(c["status"] == "pass" for c in by_id(rep, "NET001").values())
    tls = by_id(rep, "TLS001")["gbl.his.arc.azure.com"]
    assert tls["status"] == "pass" and "*.his.arc.azure.com" in tls["evidence"]["names"]
    assert all(c["status"] == "pass" for c in by_id(rep, "PUB002").values())


def test_tls_wrong_name_and_untrusted_issuer(stub_dns, tls_server):
    server, ca = tls_server(["proxy.corp.example"])
    dns = stub_dns(loopback_records())
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "--port", str(server.port), "--ca-cert", ca,
                          "--explain")
    assert rc == 1
    c = by_id(rep, "TLS001")["gbl.his.arc.azure.com"]
    assert c["status"] == "fail" and c["evidence"]["tls"] == "name-mismatch"
    assert c["evidence"]["names"] == ["proxy.corp.example"]
    assert "presents a certificate for proxy.corp.example" in diagnosis_text(rep)
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "--port", str(server.port))
    c = by_id(rep, "TLS001")["gbl.his.arc.azure.com"]
    assert rc == 1 and c["evidence"]["tls"] == "untrusted"
    assert "arclink emulator CA" in c["evidence"]["issuer"]


def test_nothing_listening_fails_tcp(stub_dns):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # a port where nothing listens
    dns = stub_dns(loopback_records())
    rc, rep = doctor_json("--dns-server", f"127.0.0.1:{dns.port}", "--port", str(port), "--explain")
    assert rc == 1
    c = by_id(rep, "NET001")["gbl.his.arc.azure.com"]
    assert c["status"] == "fail" and c["evidence"]["tcp"] == "refused"
    assert by_id(rep, "TLS001")["gbl.his.arc.azure.com"]["status"] == "skip"
    assert "does not answer on TCP 443" in diagnosis_text(rep)
    assert by_id(rep, "PUB002")["management.azure.com"]["status"] == "fail"
