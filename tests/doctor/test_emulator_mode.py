"""The doctor against the emulator (DNS server + gateway on loopback) for correct and broken topologies."""

from __future__ import annotations

import pytest

from arclink.model import catalogue as cat

from doctor_fixtures import EXAMPLES, by_id, diagnosis_text, doctor, doctor_json, emulator_args, failing

ARC_NAMES = [r.fqdn for r in cat.arc_records("westeurope")]
DP_NAMES = [n for n in ARC_NAMES if n.endswith("dp.kubernetesconfiguration.azure.com")]


def run_site(run_emulator, example: str, site: str, *extra: str) -> tuple[int, dict]:
    path, _, _ = run_emulator(example)
    return doctor_json(*emulator_args(path, site, EXAMPLES / example), "--explain", *extra)


@pytest.mark.parametrize("site", ["store-amsterdam", "store-rotterdam", "store-utrecht"])
def test_good_site_passes_every_check(run_emulator, site):
    rc, rep = run_site(run_emulator, "good.yaml", site, "--enable-pls-check")
    assert rc == 0, [c for c in rep["checks"] if c["status"] != "pass"]
    assert rep["summary"]["fail"] == 0 and rep["summary"]["result"] == "pass"
    for cid in ("DNS001", "DNS002", "NET001", "TLS001"):
        assert set(by_id(rep, cid)) == set(ARC_NAMES)
        assert all(c["status"] == "pass" for c in by_id(rep, cid).values())
    # every Arc name resolves into the endpoint's subnet, through one endpoint
    for c in by_id(rep, "DNS002").values():
        assert all(a.startswith("10.10.1.") for a in c["evidence"]["addresses"])
    assert by_id(rep, "DNS003")["*"]["evidence"]["endpoints"] == ["pe-arc-retail"]
    # the public endpoints resolve public and the firewall lets them through
    pub = by_id(rep, "PUB001")
    assert {"management.azure.com", "login.microsoftonline.com", "mcr.microsoft.com",
            "westeurope.data.mcr.microsoft.com"} <= set(pub)
    assert all(c["status"] == "pass" for c in pub.values())
    # ignored and unused names are reported, not checked
    assert by_id(rep, "ATS001")["weu-ats.his.arc.azure.com"]["status"] == "skip"
    assert by_id(rep, "CCN001")["guestnotificationservice.azure.com"]["status"] == "skip"
    # the gateway presented a certificate for the name, signed by the emulator CA
    tls = by_id(rep, "TLS001")["gbl.his.arc.azure.com"]["evidence"]
    assert tls["tls"] == "verified" and "arclink emulator CA" in tls["issuer"]
    assert rep["diagnosis"] == []


def test_table_output_has_summary_line(run_emulator):
    path, _, _ = run_emulator("good.yaml")
    rc, out, err = doctor(*emulator_args(path, "store-amsterdam", EXAMPLES / "good.yaml"))
    assert rc == 0 and err == ""
    assert "DNS001" in out and "gbl.his.arc.azure.com" in out
    assert out.strip().splitlines()[-1].startswith("OK: ")


def test_public_resolver_site(run_emulator):
    rc, rep = run_site(run_emulator, "broken/dns-forwards-to-public-resolver.yaml", "store-amsterdam",
                       "--enable-pls-check")
    assert rc == 1
    fails = failing(rep)
    assert {("DNS002", n) for n in ARC_NAMES} <= fails
    assert ("ADM001", "k3s-amsterdam") in fails
    assert ("RUL001", "APL016") in fails
    text = diagnosis_text(rep)
    assert ("your DNS server 192.168.10.53 answers public addresses for gbl.his.arc.azure.com: it forwards to a "
            "public resolver (8.8.8.8) instead of the DNS forwarder in Azure; add a conditional forwarder for "
            "his.arc.azure.com to 10.10.3.4.") in text
    assert "add a conditional forwarder for dp.kubernetesconfiguration.azure.com to 10.10.3.4" in text


def test_public_answers_are_fine_without_pls_check(run_emulator):
    rc, rep = run_site(run_emulator, "broken/dns-forwards-to-public-resolver.yaml", "store-amsterdam")
    assert all(c["status"] == "pass" for c in by_id(rep, "DNS002").values())
    assert "only with --enable-pls-check" in by_id(rep, "DNS002")["gbl.his.arc.azure.com"]["summary"]


def test_other_site_of_broken_topology_passes(run_emulator):
    rc, rep = run_site(run_emulator, "broken/dns-forwards-to-public-resolver.yaml", "store-rotterdam",
                       "--enable-pls-check")
    assert rc == 0, failing(rep)


def test_zone_without_dp(run_emulator):
    rc, rep = run_site(run_emulator, "broken/zone-without-dp.yaml", "store-amsterdam", "--enable-pls-check")
    assert rc == 1
    dns002 = by_id(rep, "DNS002")
    assert {n for n, c in dns002.items() if c["status"] == "fail"} == set(DP_NAMES)
    assert by_id(rep, "DNS003")["*"]["status"] == "fail"
    assert ("RUL001", "APL024") in failing(rep)
    assert ("that virtual network has no link to the private DNS zone privatelink.dp.kubernetesconfiguration.azure.com"
            in diagnosis_text(rep))


def test_pending_endpoint_connection_blocks_tcp(run_emulator):
    rc, rep = run_site(run_emulator, "broken/pending-endpoint-connection.yaml", "store-rotterdam",
                       "--enable-pls-check")
    assert rc == 1
    net = by_id(rep, "NET001")
    assert all(c["status"] == "fail" for c in net.values())
    assert net["gbl.his.arc.azure.com"]["evidence"]["gateway"]["code"] == "PrivateEndpointConnectionNotApproved"
    assert all(c["status"] == "skip" for c in by_id(rep, "TLS001").values())
    assert ("RUL001", "APL019") in failing(rep)
    assert "(PrivateEndpointConnectionNotApproved)" in diagnosis_text(rep)


def test_firewall_missing_frontdoor(run_emulator):
    rc, rep = run_site(run_emulator, "broken/firewall-missing-frontdoor.yaml", "store-utrecht", "-p")
    assert rc == 1
    pub = by_id(rep, "PUB002")
    assert pub["mcr.microsoft.com"]["status"] == "fail"
    assert "AzureFrontDoor.FirstParty (inbound)" in pub["mcr.microsoft.com"]["evidence"]["blocked"]
    assert pub["management.azure.com"]["status"] == "pass"
    assert ("RUL001", "APL008") in failing(rep)
    assert "the firewall of site 'store-utrecht' blocks AzureFrontDoor.FirstParty" in diagnosis_text(rep)


def test_cluster_not_associated(run_emulator):
    rc, rep = run_site(run_emulator, "broken/cluster-not-associated-with-scope.yaml", "store-utrecht", "-p")
    assert rc == 1
    adm = by_id(rep, "ADM001")["k3s-utrecht"]
    assert adm["status"] == "fail" and adm["evidence"]["code"] == "ClusterNotAssociatedWithScope"
    # the network itself is fine: DNS private, TCP and TLS through
    assert all(c["status"] == "pass" for cid in ("DNS002", "NET001", "TLS001") for c in by_id(rep, cid).values())
    assert "must be associated with the Azure Arc Private Link Scope, or the connection will be refused" in \
        diagnosis_text(rep)


def test_non_private_link_cluster_shares_dns(run_emulator):
    rc, rep = run_site(run_emulator, "broken/non-private-link-cluster-shares-dns.yaml", "store-amsterdam", "-p")
    assert rc == 1
    assert ("ADM001", "k3s-amsterdam-legacy") in failing(rep)
    assert by_id(rep, "ADM001")["k3s-amsterdam"]["status"] == "pass"
    assert ("RUL001", "APL010") in failing(rep)


@pytest.mark.parametrize("example,site,rule", [
    ("broken/region-mismatch.yaml", "store-amsterdam", "APL004"),
    ("broken/two-scopes-one-vnet.yaml", "store-rotterdam", "APL001"),
    ("broken/cluster-connect-enabled.yaml", "store-rotterdam", "APL012"),
])
def test_planning_errors_show_as_rule_checks(run_emulator, example, site, rule):
    rc, rep = run_site(run_emulator, example, site, "-p")
    assert rc == 1
    assert {cid for cid, _ in failing(rep)} == {"RUL001"}
    assert ("RUL001", rule) in failing(rep)
    assert any(d["source"] == rule for d in rep["diagnosis"])


def test_vnet_cidr_mismatch(run_emulator):
    rc, rep = run_site(run_emulator, "good.yaml", "store-amsterdam", "-p", "--vnet-cidr", "10.20.0.0/16")
    assert rc == 1
    c = by_id(rep, "DNS002")["gbl.his.arc.azure.com"]
    assert c["status"] == "fail" and c["evidence"]["outside"] == ["10.10.1.4"]


def test_site_without_route_to_the_forwarder(run_emulator, tmp_path):
    """Own variant: Utrecht loses its VPN; its DNS cannot reach the resolver in Azure."""
    text = (EXAMPLES / "good.yaml").read_text()
    marker = "  - name: store-utrecht\n    addressSpace: [192.168.30.0/24]\n    connections: [{type: SiteToSiteVPN, virtualNetwork: vnet-hub}]\n"
    assert marker in text
    variant = tmp_path / "no-vpn.yaml"
    variant.write_text(text.replace(marker, marker.replace("[{type: SiteToSiteVPN, virtualNetwork: vnet-hub}]", "[]")))
    rc, rep = run_site(run_emulator, str(variant), "store-utrecht", "-p")
    assert rc == 1
    assert all(c["status"] == "fail" for c in by_id(rep, "DNS001").values())
    assert ("RUL001", "APL015") in failing(rep)
    assert "no VPN or ExpressRoute path" in diagnosis_text(rep)


def test_unknown_site_is_exit_2(run_emulator):
    path, _, _ = run_emulator("good.yaml")
    rc, out, err = doctor(*emulator_args(path, "store-nowhere", EXAMPLES / "good.yaml"))
    assert rc == 2 and out == ""
    assert "unknown site 'store-nowhere'" in err and "store-amsterdam" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
