"""CoreDNS, Windows DNS, hosts (no engine here: structural), per-site layout, firewall lists
(nft -c where nft can run), and the command line."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import subprocess
import sys

import pytest

from arclink import export
from arclink.export import firewall
from arclink.export.onprem import ExportError, Options
from arclink.model import catalogue as cat
from tests.conftest import require_tool, unavailable
from tests.export.conftest import GOOD, ROOT, SERVICE_TAGS


def _pe_records(ix):
    pe = ix.endpoints["pe-arc-retail"]
    return {r.record.fqdn: r.address for r in pe.records}


def test_per_site_layout(good_index):
    files = export.render("unbound", good_index)
    assert sorted(files) == sorted(f"{s}/unbound.conf" for s in good_index.sites)
    one = export.render("unbound", good_index, site="store-utrecht")
    assert list(one) == ["unbound.conf"]
    assert "interface: 192.168.30.53" in one["unbound.conf"]
    with pytest.raises(ExportError, match="store-nowhere"):
        export.render("bind", good_index, site="store-nowhere")


def test_hosts_lines_are_the_endpoint_records(good_index):
    text = export.render("hosts", good_index, site="store-amsterdam")["hosts"]
    lines = [ln.split() for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert {name: addr for addr, name in lines} == _pe_records(good_index)


def test_coredns_both_designs(good_index):
    fwd = export.render("coredns", good_index, site="store-amsterdam", design="forwarder")["Corefile"]
    for z in cat.ARC_ZONES:
        assert f"{z.public_zone}:53 {{" in fwd
    assert fwd.count("forward . 10.10.3.4:53") == 3
    man = export.render("coredns", good_index, site="store-amsterdam", design="manual")["Corefile"]
    for fqdn, addr in _pe_records(good_index).items():
        assert f"        {addr} {fqdn}\n" in man
    assert "fallthrough" in man and man.count("{") == man.count("}")


def test_windows_powershell(good_index):
    fwd = export.render("windows", good_index, site="store-amsterdam", design="forwarder")["arclink-dns.ps1"]
    for z in cat.ARC_ZONES:
        assert f"Add-DnsServerConditionalForwarderZone -Name '{z.public_zone}' -MasterServers '10.10.3.4'" in fwd
    man = export.render("windows", good_index, site="store-amsterdam", design="manual")["arclink-dns.ps1"]
    for fqdn, addr in _pe_records(good_index).items():
        assert f"Add-DnsServerPrimaryZone -Name '{fqdn}'" in man
        assert f"Add-DnsServerResourceRecordA -ZoneName '{fqdn}' -Name '@' -IPv4Address '{addr}'" in man
    assert "\r\n" in man and man.count("{") == man.count("}")


def test_forwarder_design_needs_a_reachable_forwarder(good_index):
    from msgspec.structs import replace

    from arclink.model.index import build_index

    topo = good_index.topology
    # no dnsForwarders: the site's own conditional forwarders for the Arc zones are used
    sites = [replace(s, dns=replace(s.dns, conditional_forwarders=[replace(cf, targets=["10.10.1.200"])
                                                                   for cf in s.dns.conditional_forwarders]))
             for s in topo.sites]
    ix = build_index(replace(topo, dns_forwarders=[], sites=sites))
    assert "forwarders { 10.10.1.200; };" in export.render("bind", ix, site="store-amsterdam")["named.conf"]
    # and with neither, the export says what to add
    sites = [replace(s, dns=replace(s.dns, conditional_forwarders=[])) for s in topo.sites]
    ix = build_index(replace(topo, dns_forwarders=[], sites=sites))
    with pytest.raises(ExportError, match="reaches no DNS forwarder in Azure: add one under dnsForwarders"):
        export.render("bind", ix, site="store-amsterdam", dns_options=Options(design="forwarder"))


# --- firewall ------------------------------------------------------------------------------------


def test_service_tags_collapsed():
    tags = {t.tag: t for t in firewall.load_service_tags(SERVICE_TAGS)}
    assert list(tags) == list(cat.REQUIRED_SERVICE_TAGS)
    raw = json.loads(SERVICE_TAGS.read_text())
    for v in raw["values"]:
        if v["name"] in tags:
            t = tags[v["name"]]
            covered = t.v4 + t.v6
            for p in v["properties"]["addressPrefixes"]:  # nothing lost
                assert any(ipaddress.ip_network(p).subnet_of(n) for n in covered if n.version == ipaddress.ip_network(p).version)
            assert len(covered) <= len(v["properties"]["addressPrefixes"])
    assert [str(n) for n in tags["AzureActiveDirectory"].v4] == ["192.0.2.0/24"]
    assert [str(n) for n in tags["MicrosoftContainerRegistry"].v6] == ["2001:db8:40::/47"]


def test_firewall_csv_and_iptables(good_index):
    files = export.render("firewall", good_index, service_tags=str(SERVICE_TAGS))
    rows = list(csv.DictReader(io.StringIO(files["allow-list.csv"])))
    inbound = {r["service_tag"] for r in rows if r["direction"] == "inbound"}
    assert inbound == {cat.TAG_FRONTDOOR}
    assert {r["service_tag"] for r in rows if r["direction"] == "outbound"} == set(cat.REQUIRED_SERVICE_TAGS)
    assert all(r["port"] == "443" and r["protocol"] == "tcp" for r in rows)
    assert "192.0.2.200" not in files["allow-list.csv"]  # the unrelated tag
    v4 = files["iptables.rules"]
    assert v4.startswith("#") and "*filter" in v4 and v4.rstrip().endswith("COMMIT")
    assert "-A ARC-ALLOW -s 203.0.113.0/26 -p tcp -m tcp --dport 443" in v4
    assert "2001:db8" not in v4 and "2001:db8:30::/48" in files["ip6tables.rules"]


def test_nftables_accepted_by_nft(good_index, tmp_path):
    nft = require_tool("nft")
    files = export.render("firewall", good_index, service_tags=str(SERVICE_TAGS))
    export.write(files, tmp_path)
    r = subprocess.run([nft, "-c", "-f", str(tmp_path / "arclink.nft")], capture_output=True, text=True, timeout=30)
    if r.returncode != 0 and any(s in r.stderr for s in ("Operation not permitted", "Permission denied",
                                                         "Could not process rule: Not supported")):
        unavailable(f"nft cannot run here: {r.stderr.strip().splitlines()[0]}")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("content, needle", [
    ("{not json", "not valid JSON"),
    ('{"values": [{"name": "AzureActiveDirectory", "properties": {"addressPrefixes": ["10.0.0.0/8"]}}]}',
     "service tag 'AzureResourceManager' is missing"),
    ('{"items": []}', "no 'values' list"),
])
def test_bad_service_tags(tmp_path, content, needle):
    p = tmp_path / "tags.json"
    p.write_text(content)
    with pytest.raises(firewall.ServiceTagsError, match=needle):
        firewall.load_service_tags(p)


# --- command line --------------------------------------------------------------------------------


def arclink(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "arclink", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_cli_writes_every_kind(tmp_path):
    for kind in ("azcli", "arm", "bicep", "terraform", "nsg", "bind", "unbound", "dnsmasq", "coredns", "windows", "hosts"):
        r = arclink("export", kind, str(GOOD), "-o", str(tmp_path / kind), "--design", "manual")
        assert r.returncode == 0, (kind, r.stderr)
        assert r.stdout.strip() and "Traceback" not in r.stderr
    r = arclink("export", "firewall", str(GOOD), "-o", str(tmp_path / "fw"), "--service-tags", str(SERVICE_TAGS))
    assert r.returncode == 0 and (tmp_path / "fw" / "arclink.nft").exists()
    r = arclink("export", "bind", str(GOOD), "-o", str(tmp_path / "m"), "--site", "store-amsterdam",
                "--map", "10.10.3.4=127.0.0.1:5353", "--listen", "127.0.0.1:5300")
    text = (tmp_path / "m" / "named.conf").read_text()
    assert r.returncode == 0 and "10.10.3.4" not in text.split("*/")[-1].split("options")[1]
    assert "127.0.0.1 port 5353" in text and "listen-on port 5300 { 127.0.0.1; }" in text


@pytest.mark.parametrize("args, code, needle", [
    (["export", "nginx", "GOOD", "-o", "OUT"], 2, "unknown KIND 'nginx'"),
    (["export", "firewall", "GOOD", "-o", "OUT"], 2, "--service-tags"),
    (["export", "firewall", "GOOD", "-o", "OUT", "--service-tags", "/nonexistent/tags.json"], 2, "file not found"),
    (["export", "bind", "/nonexistent/topology.yaml", "-o", "OUT"], 2, "file not found"),
    (["export", "bind", "GOOD", "-o", "OUT", "--site", "store-paris"], 2, "site 'store-paris' is not in the topology"),
    (["export", "bind", "GOOD", "-o", "OUT", "--map", "10.10.3.4=localhost"], 2, "not HOST:PORT"),
    (["export", "bind", "GOOD", "-o", "OUT", "--map", "dns-hub=127.0.0.1:5353"], 2, "'dns-hub' is not an IP address"),
    (["export", "firewall", "GOOD", "-o", "OUT", "--service-tags", "/"], 2, "is a directory"),
    (["export", "azcli", "BROKEN", "-o", "OUT"], 1, "APL001"),
])
def test_cli_errors(tmp_path, args, code, needle):
    broken = ROOT / "examples" / "broken" / "two-scopes-one-vnet.yaml"
    argv = [str(GOOD) if a == "GOOD" else str(broken) if a == "BROKEN" else str(tmp_path / "o") if a == "OUT" else a
            for a in args]
    r = arclink(*argv)
    assert r.returncode == code, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_force_exports_a_plan_with_errors(tmp_path):
    broken = ROOT / "examples" / "broken" / "two-scopes-one-vnet.yaml"
    r = arclink("export", "azcli", str(broken), "-o", str(tmp_path), "--force")
    assert r.returncode == 0 and (tmp_path / "deploy.sh").exists()
    assert "--force" in r.stderr
