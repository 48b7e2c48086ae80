"""Exports a network engineer could deploy as they are (hub and spoke, fixed addresses, mixed
sites, every conditional forwarder, DNSSEC, cluster features, one api-version per type).

The topology is ``fixtures/hub-spoke.yaml``: sites land on the hub and reach the Arc private
endpoint in the spoke through the hub's peering; one site forwards, one hosts the records
itself, one runs only a public cluster.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from msgspec.structs import replace

from arclink import export
from arclink.export.plan import API_VERSIONS, build_plan
from arclink.model import catalogue as cat
from arclink.model.index import build_index
from arclink.model.loader import load
from tests.conftest import require_tool
from tests.export.conftest import FIXTURES, ROOT

HUB_SPOKE = FIXTURES / "hub-spoke.yaml"
SCRIPT_HEAD = "set -euo pipefail"


@pytest.fixture(scope="module")
def ix():
    return load(HUB_SPOKE)


def _arm_resources(doc) -> list[dict]:
    return [x for r in doc["resources"] for x in r["properties"]["template"].get("resources", [])]


def _peering_flags_everywhere(index) -> dict[str, dict[str, dict[str, bool]]]:
    """``{format: {peering name: {allowGatewayTransit, useRemoteGateways}}}`` read back from each output."""
    out: dict[str, dict] = {}
    arm = json.loads(export.render("arm", index)["azuredeploy.json"])
    out["arm"] = {x["name"].split("/")[-1]: {k: x["properties"].get(k, False) for k in ("allowGatewayTransit", "useRemoteGateways")}
                  for x in _arm_resources(arm) if x["type"].endswith("/virtualNetworkPeerings")}
    bicep = "\n".join(export.render("bicep", index).values())
    out["bicep"] = {}
    for block in re.findall(r"^resource \w+ 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings@[^']+' = \{(.*?)^\}",
                            bicep, re.M | re.S):
        name = re.search(r"^  name: '([^']+)'", block, re.M).group(1)
        out["bicep"][name] = {k: re.search(rf"^\s+{k}: (true|false)$", block, re.M).group(1) == "true"
                              for k in ("allowGatewayTransit", "useRemoteGateways")}
    tf = export.render("terraform", index)["main.tf"]
    out["terraform"] = {}
    for block in re.findall(r'^resource "azurerm_virtual_network_peering" "\w+" \{(.*?)^\}', tf, re.M | re.S):
        name = re.search(r'^\s+name\s+= "([^"]+)"', block, re.M).group(1)
        out["terraform"][name] = {"allowGatewayTransit": re.search(r"allow_gateway_transit\s+= (\w+)", block).group(1) == "true",
                                  "useRemoteGateways": re.search(r"use_remote_gateways\s+= (\w+)", block).group(1) == "true"}
    script = export.render("azcli", index)["deploy.sh"]
    out["azcli"] = {}
    for line in script.splitlines():
        m = re.search(r"az network vnet peering create .*--name (\S+) ", line)
        if m:
            out["azcli"][m.group(1)] = {"allowGatewayTransit": "--allow-gateway-transit" in line,
                                        "useRemoteGateways": "--use-remote-gateways" in line}
    return out


# --- 10: gateway transit --------------------------------------------------------------------------


def test_hub_and_spoke_peerings_carry_gateway_transit_in_every_format(ix):
    want = {"vnet-hub-to-vnet-spoke-arc": {"allowGatewayTransit": True, "useRemoteGateways": False},
            "vnet-spoke-arc-to-vnet-hub": {"allowGatewayTransit": False, "useRemoteGateways": True}}
    for fmt, got in _peering_flags_everywhere(ix).items():
        assert got == want, fmt
    # the hub's side is created before the side that uses its gateway
    titles = [s.name for s in build_plan(ix).of_kind("virtualNetworkPeering")]
    assert titles == ["vnet-hub-to-vnet-spoke-arc", "vnet-spoke-arc-to-vnet-hub"]


def test_peerings_listed_by_name_carry_no_transit():
    """spread.yaml lists its peerings by name: ARM's defaults, neither side transits."""
    got = _peering_flags_everywhere(load(FIXTURES / "spread.yaml"))
    for fmt, flags in got.items():
        assert flags and all(f == {"allowGatewayTransit": False, "useRemoteGateways": False} for f in flags.values()), fmt


def test_exports_render_the_flags_reach_routes_by(ix):
    """The spoke's side without useRemoteGateways: every format renders it so, and lint says the
    sites landing on the hub no longer reach the spoke's endpoint (one decision, both faces)."""
    topo = ix.topology
    vnets = [replace(v, peerings=["vnet-hub"]) if v.name == "vnet-spoke-arc" else v for v in topo.virtual_networks]
    written = build_index(replace(topo, virtual_networks=vnets))
    for fmt, got in _peering_flags_everywhere(written).items():
        assert got["vnet-spoke-arc-to-vnet-hub"] == {"allowGatewayTransit": False, "useRemoteGateways": False}, fmt
        assert got["vnet-hub-to-vnet-spoke-arc"] == {"allowGatewayTransit": True, "useRemoteGateways": False}, fmt
    from arclink.model import rules

    assert not [f for f in rules.run(ix, only=["APL015"])]
    found = rules.run(written, only=["APL015"])
    assert found and all("does not set useRemoteGateways" in f.message for f in found)


def test_the_former_gateway_transit_key_is_one_clear_error(tmp_path):
    text = HUB_SPOKE.read_text().replace("    peerings: [{virtualNetwork: vnet-spoke-arc, allowGatewayTransit: true}]\n",
                                         "    peerings: [vnet-spoke-arc]\n    gatewayTransit: [{virtualNetwork: vnet-x}]\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    r = subprocess.run([sys.executable, "-m", "arclink", "export", "arm", str(bad), "-o", str(tmp_path / "o"), "--force"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "unknown key 'gatewayTransit'" in r.stderr


# --- 11: fixed endpoint addresses -----------------------------------------------------------------


def _fixed(ix) -> dict[str, str]:
    return dict(ix.endpoints["pe-hs"].spec.ip_addresses)


def test_fixed_endpoint_addresses_in_every_azure_format(ix):
    fixed = _fixed(ix)
    member = {r.fqdn: cat.ARC_ZONE_MEMBERS[r.zone.key] for r in cat.arc_records("westeurope")}
    arm = json.loads(export.render("arm", ix)["azuredeploy.json"])
    (pe,) = [x for x in _arm_resources(arm) if x["type"] == "Microsoft.Network/privateEndpoints"]
    got = {c["name"]: c["properties"] for c in pe["properties"]["ipConfigurations"]}
    assert {n: p["privateIPAddress"] for n, p in got.items()} == fixed
    assert all(p["groupId"] == "hybridcompute" and p["memberName"] == member[n] for n, p in got.items())
    assert set(member.values()) == set(cat.ARC_REQUIRED_MEMBERS)

    bicep = "\n".join(export.render("bicep", ix).values())
    for fqdn, ip in fixed.items():
        assert re.search(rf"name: '{re.escape(fqdn)}'\n\s+properties: \{{\n\s+groupId: 'hybridcompute'\n"
                         rf"\s+memberName: '{re.escape(member[fqdn])}'\n\s+privateIPAddress: '{re.escape(ip)}'", bicep), fqdn

    tf = export.render("terraform", ix)["main.tf"]
    blocks = re.findall(r"ip_configuration \{(.*?)\}", tf, re.S)
    parsed = {re.search(r'name\s+= "([^"]+)"', b).group(1): (re.search(r'private_ip_address\s+= "([^"]+)"', b).group(1),
                                                             re.search(r'member_name\s+= "([^"]+)"', b).group(1),
                                                             re.search(r'subresource_name\s+= "([^"]+)"', b).group(1))
              for b in blocks}
    assert parsed == {f: (ip, member[f], "hybridcompute") for f, ip in fixed.items()}

    script = export.render("azcli", ix)["deploy.sh"]
    (create,) = [ln for ln in script.splitlines() if "az network private-endpoint create" in ln]
    configs = re.findall(r"--ip-config name=(\S+) group-id=(\S+) member-name=(\S+) private-ip-address=(\S+)", create)
    assert {c[0]: c[3] for c in configs} == fixed
    assert all(c[1] == "hybridcompute" and c[2] == member[c[0]] for c in configs)


def test_endpoint_without_fixed_addresses_has_no_ip_configurations(good_index):
    arm = json.loads(export.render("arm", good_index)["azuredeploy.json"])
    assert all("ipConfigurations" not in x["properties"] for x in _arm_resources(arm)
               if x["type"] == "Microsoft.Network/privateEndpoints")
    assert "--ip-config" not in export.render("azcli", good_index)["deploy.sh"]


@pytest.mark.parametrize("kind", ["bind", "unbound", "dnsmasq", "coredns", "windows", "hosts"])
def test_manual_dns_says_unfixed_addresses_are_read_after_deployment(kind, good_index, ix):
    text = "".join(export.render(kind, good_index, site="store-amsterdam", design="manual").values())
    assert "read them from the endpoint's DNS configuration after deployment" in text
    assert "gbl.his.arc.azure.com" in text.split("Azure assigns the addresses of ")[1].split(" when")[0]
    fixed = "".join(export.render(kind, ix, site="plant-manual").values())
    assert "Azure assigns the addresses" not in fixed  # every address is fixed there


# --- 12 and 14: every conditional forwarder; each site its own design -------------------------------


def test_every_conditional_forwarder_of_the_site_is_kept(ix):
    kept = {"monitor.azure.com": ["10.40.3.4"], "oms.opinsights.azure.com": ["10.40.3.4"],
            "corp.example.com": ["192.168.50.10", "192.168.50.11"]}
    files = {k: "".join(export.render(k, ix, site="plant-forward").values())
             for k in ("bind", "unbound", "dnsmasq", "coredns", "windows")}
    for zone, targets in kept.items():
        assert f'zone "{zone}" {{\n    type forward;\n    forward only;\n    forwarders {{ {"; ".join(targets)}; }};' \
            in files["bind"]
        assert f'forward-zone:\n    name: "{zone}."\n' + "".join(f"    forward-addr: {t}\n" for t in targets) in files["unbound"]
        assert all(f"server=/{zone}/{t}" in files["dnsmasq"] for t in targets)
        assert f"{zone}:53 {{" in files["coredns"] and f"forward . {' '.join(t + ':53' for t in targets)}" in files["coredns"]
        assert f"Add-DnsServerConditionalForwarderZone -Name '{zone}' -MasterServers " \
               f"{', '.join(repr(t) for t in targets)}" in files["windows"]


def test_a_mixed_topology_exports_each_site_with_its_own_design(ix):
    files = export.render("bind", ix)
    assert sorted(files) == sorted(
        ["plant-forward/named.conf", "plant-manual/named.conf", "office-public/named.conf"]
        + [f"plant-manual/db.{r.fqdn}" for r in cat.arc_records("westeurope")])
    fwd, man, pub = (files[f"{s}/named.conf"] for s in ("plant-forward", "plant-manual", "office-public"))
    for z in cat.ARC_ZONES:
        assert f'zone "{z.public_zone}" {{\n    type forward;' in fwd
        assert f'zone "{z.public_zone}" {{\n    type forward;' not in man
    assert "type primary" not in fwd
    for fqdn, ip in _fixed(ix).items():
        assert f'zone "{fqdn}" {{\n    type primary;' in man
        assert f"@ IN A {ip}" in files[f"plant-manual/db.{fqdn}"]
    # the site with only a public cluster: no Arc forwarders or records at all, its own forwarder kept
    assert not any(z in pub for z in cat.ARC_PUBLIC_ZONES) and "type primary" not in pub
    assert 'zone "corp.example.com"' in pub and "no private-link cluster runs here" in pub
    for kind in ("unbound", "dnsmasq", "coredns", "windows"):
        text = "".join(v for k, v in export.render(kind, ix).items() if k.startswith("office-public/"))
        assert text and not any(z in text for z in cat.ARC_PUBLIC_ZONES), kind
    assert "hosts" not in export.render("hosts", ix, site="office-public")["hosts"].split("single machines.")[1]


def test_mixed_topology_configs_pass_the_engines_checks(ix, tmp_path):
    checkconf = require_tool("named-checkconf")
    unbound_check = require_tool("unbound-checkconf")
    for site in ("plant-forward", "plant-manual", "office-public"):
        d = tmp_path / site
        export.write(export.render("bind", ix, site=site), d)
        text = (d / "named.conf").read_text().replace('directory "/etc/bind/arclink"', f'directory "{d}"')
        (d / "named.conf").write_text(text)
        r = subprocess.run([checkconf, "-z", str(d / "named.conf")], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (site, r.stdout + r.stderr)
        export.write(export.render("unbound", ix, site=site), d)
        r = subprocess.run([unbound_check, str(d / "unbound.conf")], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (site, r.stdout + r.stderr)


def test_cli_exports_the_mixed_topology_in_one_run(tmp_path):
    r = subprocess.run([sys.executable, "-m", "arclink", "export", "bind", str(HUB_SPOKE), "-o", str(tmp_path), "--force"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "plant-manual" / "db.gbl.his.arc.azure.com").exists()
    assert 'zone "his.arc.azure.com"' in (tmp_path / "plant-forward" / "named.conf").read_text()
    # an explicit design applies to every private-link site, never to the public one
    r = subprocess.run([sys.executable, "-m", "arclink", "export", "unbound", str(HUB_SPOKE), "-o", str(tmp_path / "m"),
                        "--force", "--design", "manual"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "local-data" in (tmp_path / "m" / "plant-forward" / "unbound.conf").read_text()
    assert "local-data" not in (tmp_path / "m" / "office-public" / "unbound.conf").read_text()


# --- 13: DNSSEC ------------------------------------------------------------------------------------


@pytest.mark.parametrize("design", ["forwarder", "manual"])
def test_bind_exempts_only_the_private_zones_from_validation(design, good_index):
    text = export.render("bind", good_index, site="store-amsterdam", design=design)["named.conf"]
    assert "dnssec-validation no" not in text
    assert "    dnssec-validation auto;\n" in text
    m = re.search(r"^    validate-except \{ (.*) \};$", text, re.M)
    assert m and re.findall(r'"([^"]+)";', m.group(1)) == sorted(cat.ARC_PUBLIC_ZONES)


# --- 15: features and api-versions -----------------------------------------------------------------


def test_cluster_features_are_exported(ix):
    script = export.render("azcli", ix)["onboard.sh"]
    enable = [ln for ln in script.splitlines() if "az connectedk8s enable-features" in ln]
    disable = [ln for ln in script.splitlines() if "az connectedk8s disable-features" in ln]
    assert len(enable) == 1 and "--name k8s-office --features cluster-connect " in enable[0]
    # connect turns custom-locations on for a cluster without private link; the topology does not list it
    assert len(disable) == 1 and "--name k8s-office --features custom-locations " in disable[0] and "--yes" in disable[0]
    for kind, needle in (("terraform", 'feature  = "cluster-connect"'), ("bicep", "feature: 'cluster-connect'"),
                         ("arm", '"feature": "cluster-connect"')):
        assert needle in "".join(export.render(kind, ix).values()), kind


def test_one_api_version_per_resource_type_in_every_format(ix):
    plan = build_plan(ix)
    arm = json.loads(export.render("arm", ix)["azuredeploy.json"])
    for x in _arm_resources(arm) + arm["resources"]:
        assert x["apiVersion"] == API_VERSIONS[x["type"]], x["type"]
    for text in export.render("bicep", ix).values():
        for rtype, api in re.findall(r"^resource \w+ '([^@']+)@([^']+)'", text, re.M):
            assert api == API_VERSIONS[rtype]
    tf = export.render("terraform", ix)["main.tf"]
    for rtype, api in re.findall(r'type\s+= "([^@"]+)@([^"]+)"', tf):
        assert api == API_VERSIONS[rtype]
    script = export.render("azcli", ix)["deploy.sh"]
    for rtype in {s.type for s in plan.azure_steps}:
        if rtype.startswith("Microsoft.HybridCompute"):
            assert f"--api-version {API_VERSIONS[rtype]}" in script or f"api-version={API_VERSIONS[rtype]}" in script
    # and no other api-version literal lives in the exporters or in apply: the table is the one source
    sources = list((ROOT / "src" / "arclink" / "export").glob("*.py")) + [ROOT / "src" / "arclink" / "cli" / "apply.py"]
    for path in sources:
        if path.name == "plan.py":
            continue
        for m in re.finditer(r"\b20\d\d-\d\d-\d\d(?:-preview)?\b", path.read_text()):
            line = path.read_text()[:m.start()].rsplit("\n", 1)[-1] + m.group(0)
            assert "schemas/" in line or "deploymentTemplate" in line, (path.name, line)
