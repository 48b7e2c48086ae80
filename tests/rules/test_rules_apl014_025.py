"""APL014-APL025 beyond the example cases: messages, edge cases, helpers, and per-site cost."""

from __future__ import annotations

from pathlib import Path

import pytest

from arclink.model import rules, trace
from arclink.model.loader import loads
from arclink.model.rules import apl014, apl018, apl021, apl022

GOOD = (Path(__file__).parents[2] / "examples" / "good.yaml").read_text()
ROTTERDAM_FORWARDERS = """      conditionalForwarders:
        - {zone: his.arc.azure.com, targets: [10.10.3.4]}
        - {zone: guestconfiguration.azure.com, targets: [10.10.3.4]}
        - {zone: dp.kubernetesconfiguration.azure.com, targets: [10.10.3.4]}
    firewall:
      outbound: [AzureActiveDirectory, AzureResourceManager, MicrosoftContainerRegistry, AzureFrontDoor.FirstParty]
      inbound: [AzureFrontDoor.FirstParty]
  - name: store-utrecht"""


def edited(*pairs: tuple[str, str], append: str = "") -> str:
    text = GOOD
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text + append


def run(text: str, rule_id: str):
    return rules.run(loads(text), only=[rule_id])


# --- helpers for the emulator ------------------------------------------------------------------


def test_group_id_problem():
    arc = "Microsoft.HybridCompute/privateLinkScopes"
    assert apl018.group_id_problem(arc, ["hybridcompute"]) is None
    assert apl018.group_id_problem(arc.lower(), ["HybridCompute"]) is None
    assert "none is given" in apl018.group_id_problem(arc, [])
    assert "exactly one" in apl018.group_id_problem(arc, ["hybridcompute", "hybridcompute"])
    assert "'kubernetesConfiguration' is not a sub-resource" in apl018.group_id_problem(arc, ["kubernetesConfiguration"])
    assert apl018.group_id_problem("Microsoft.Insights/privateLinkScopes", ["azuremonitor"]) is None
    assert "belongs to Microsoft.HybridCompute" in apl018.group_id_problem("Microsoft.Insights/privateLinkScopes",
                                                                           ["hybridcompute"])


def test_region_unavailable():
    assert apl021.region_unavailable("westeurope") is None
    assert apl021.region_unavailable(None) is None
    for spelling in ("southeastasia", "Southeast Asia", "SouthEastAsia"):
        assert "Southeast Asia" in apl021.region_unavailable(spelling)


def test_region_list_can_be_overridden(tmp_path, monkeypatch):
    from arclink.model import catalogue

    override = tmp_path / "catalogue.json"
    override.write_text('{"previewUnavailableRegions": ["westeurope"]}')
    monkeypatch.setenv("ARCLINK_CATALOGUE", str(override))
    catalogue._overrides.cache_clear()
    try:
        assert apl021.region_unavailable("westeurope")
        assert apl021.region_unavailable("southeastasia") is None
    finally:
        monkeypatch.delenv("ARCLINK_CATALOGUE")
        catalogue._overrides.cache_clear()


@pytest.mark.parametrize("text,expected", [
    ("1.3.0", (1, 3, 0)), ("v1.3", (1, 3, 0)), ("2.30.0b1", (2, 30, 0)), ("2.70.0", (2, 70, 0)),
    ("1.3.0-beta.1", (1, 3, 0)), ("latest", None), ("", None), ("2.x", None), ("1..3", None), (None, None),
])
def test_parse_version(text, expected):
    assert apl022.parse_version(text) == expected


def test_missing_providers_ignores_case():
    assert apl014.missing_providers(["microsoft.kubernetes", "MICROSOFT.KUBERNETESCONFIGURATION"]) == []
    assert apl014.missing_providers(["Microsoft.kubernetes.Configurations"]) == ["Microsoft.Kubernetes",
                                                                                  "Microsoft.KubernetesConfiguration"]


def test_hard_rules_are_marked():
    hard = {r.meta.id for r in rules.all_rules() if r.meta.hard and r.meta.id >= "APL014"}
    assert hard == {"APL018", "APL021"}


# --- edge cases ---------------------------------------------------------------------------------


def test_apl014_silent_without_declared_subscriptions():
    text = GOOD.split("subscriptions:\n", 1)[0] + "resourceGroups:\n" + GOOD.split("\nresourceGroups:\n", 1)[1]
    assert run(text, "APL014") == []


def test_apl015_cluster_without_site():
    found = run(edited(append="  - name: k3s-nowhere\n    privateLinkState: Enabled\n"
                              "    privateLinkScopeResourceId: pls-arc-retail\n"), "APL015")
    assert [f.path for f in found] == ["$.clusters[3]"]
    assert "names no site" in found[0].message


def test_apl016_timeout_and_where():
    # the forwarder address exists nowhere: the query times out at the site's DNS server
    text = edited(("zone: his.arc.azure.com, targets: [10.10.3.4]}\n        - {zone: guestconfiguration.azure.com, "
                   "targets: [10.10.3.4]}\n        - {zone: dp.kubernetesconfiguration.azure.com, targets: [10.10.3.4]}\n"
                   "    firewall:\n      outbound: [AzureActiveDirectory, AzureResourceManager, MicrosoftContainerRegistry, "
                   "AzureFrontDoor.FirstParty]\n      inbound: [AzureFrontDoor.FirstParty]\n  - name: store-rotterdam",
                   "zone: his.arc.azure.com, targets: [10.10.9.9]}\n        - {zone: guestconfiguration.azure.com, "
                   "targets: [10.10.3.4]}\n        - {zone: dp.kubernetesconfiguration.azure.com, targets: [10.10.3.4]}\n"
                   "    firewall:\n      outbound: [AzureActiveDirectory, AzureResourceManager, MicrosoftContainerRegistry, "
                   "AzureFrontDoor.FirstParty]\n      inbound: [AzureFrontDoor.FirstParty]\n  - name: store-rotterdam"))
    found = run(text, "APL016")
    assert [f.path for f in found] == ["$.sites[0]"]
    msg = found[0].message
    assert "gbl.his.arc.azure.com -> times out" in msg and "weu.his.arc.azure.com -> times out" in msg
    assert "2 Arc names do not resolve" in msg
    assert "10.10.9.9" in msg  # the chain names the forwarder that never answers
    assert "agentserviceapi" not in msg


def test_apl016_nxdomain_names_the_zone():
    text = edited(("      - privatelink.guestconfiguration.azure.com\n      - privatelink.dp.kubernetesconfiguration.azure.com\n",
                   "      - privatelink.guestconfiguration.azure.com\n"))
    found = run(text, "APL016")
    assert sorted(f.path for f in found) == ["$.sites[0]", "$.sites[1]", "$.sites[2]"]
    msg = found[0].message
    assert "dp.kubernetesconfiguration.azure.com -> NXDOMAIN" in msg
    assert "privatelink.dp.kubernetesconfiguration.azure.com" in msg


def test_apl016_scope_without_endpoint():
    text = edited(("privateLinkScopes:\n", "privateLinkScopes:\n  - name: pls-empty\n"),
                  append="  - name: k3s-amsterdam-2\n    site: store-amsterdam\n    privateLinkState: Enabled\n"
                         "    privateLinkScopeResourceId: pls-empty\n")
    found = run(text, "APL016")
    assert [f.path for f in found] == ["$.sites[0]"]
    assert "scope 'pls-empty'" in found[0].message and "has no private endpoint" in found[0].message


def test_apl016_wrong_private_address_names_its_owner():
    # a manual record on the site points gbl at the dp address of the endpoint
    text = edited((ROTTERDAM_FORWARDERS, ROTTERDAM_FORWARDERS.replace(
        "      conditionalForwarders:\n",
        "      records:\n        - {name: gbl.his.arc.azure.com, addresses: [10.10.1.8]}\n      conditionalForwarders:\n")))
    found = run(text, "APL016")
    assert [f.path for f in found] == ["$.sites[1]"]
    assert "gbl.his.arc.azure.com -> 10.10.1.8 (private endpoint 'pe-arc-retail' of scope 'pls-arc-retail')" in found[0].message


def test_apl017_ignores_other_zones():
    text = edited(("  - name: privatelink.monitor.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n",
                   "  - name: privatelink.monitor.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n"
                   "    records: [{name: api, addresses: []}]\n"))
    assert run(text, "APL017") == []


def test_apl019_disconnected_says_recreate():
    text = edited(("    groupIds: [hybridcompute]\n", "    groupIds: [hybridcompute]\n    connectionState: Disconnected\n"))
    (f,) = run(text, "APL019")
    assert "is Disconnected" in f.message and "recreate the endpoint" in f.message


def test_apl020_no_route_and_enabled_warning():
    text = edited(("    publicNetworkAccess: Disabled\n", "    publicNetworkAccess: Enabled\n"),
                  (ROTTERDAM_FORWARDERS, ROTTERDAM_FORWARDERS.replace("10.10.3.4", "8.8.8.8")))
    (f,) = run(text, "APL020")
    assert f.severity == "warning" and f.path == "$.privateLinkScopes[0]"
    assert "data may leave over public networks" in f.message and "'store-rotterdam'" in f.message

    text = edited(("connections: [{type: ExpressRoute, virtualNetwork: vnet-hub}]", "connections: []"))
    (f,) = run(text, "APL020")
    assert f.severity == "error" and f.path == "$.sites[0]"
    assert "no VPN or ExpressRoute path" in f.message and "publicNetworkAccess is Disabled" in f.message


def test_apl022_only_private_link_clusters_with_tools():
    text = edited(append="  - name: k3s-old-public\n    site: store-amsterdam\n"
                         "    tools: {connectedk8s: 1.0.0, azureCli: 2.0.0}\n"
                         "  - name: k3s-unknown-tools\n    site: store-amsterdam\n    privateLinkState: Enabled\n"
                         "    privateLinkScopeResourceId: pls-arc-retail\n")
    assert run(text, "APL022") == []


def test_apl023_cluster_of_another_scope():
    text = edited(("privateLinkScopes:\n", "privateLinkScopes:\n  - name: pls-other\n"),
                  append="  - name: k3s-other\n    site: store-amsterdam\n    privateLinkState: Enabled\n"
                         "    privateLinkScopeResourceId: pls-other\n")
    (f,) = run(text, "APL023")
    assert f.path == "$.clusters[3]"
    assert "(ClusterNotAssociatedWithScope)" in f.message and "associated with 'pls-other'" in f.message
    assert "scope 'pls-arc-retail'" in f.message


def test_apl024_manual_dns_sites_are_exempt_from_links():
    text = edited(("  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n",
                   "  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-other}]\n"),
                  ("virtualNetworks:\n", "virtualNetworks:\n  - name: vnet-other\n    addressSpace: [10.30.0.0/16]\n"))
    found = run(text, "APL024")
    assert [f.path for f in found] == ["$.privateDnsZones[0]"]
    assert "'vnet-hub'" in found[0].message and "sites 'store-amsterdam'" in found[0].message
    for site in ("192.168.10.53", "192.168.20.53", "192.168.30.53"):
        text = text.replace(f"      address: {site}\n", f"      address: {site}\n      zones: [his.arc.azure.com]\n")
    assert run(text, "APL024") == []


def test_apl025_wrong_address_in_zone():
    text = edited(("  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n",
                   "  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n"
                   "    records: [{name: weu, addresses: [10.10.1.99]}]\n"),
                  ("      - privatelink.his.arc.azure.com\n      - privatelink.guestconfiguration.azure.com\n",
                   "      - privatelink.guestconfiguration.azure.com\n"))
    (f,) = run(text, "APL025")
    assert f.path == "$.privateEndpoints[0]"
    assert "gbl.his.arc.azure.com (A 10.10.1.4 as 'gbl' in privatelink.his.arc.azure.com)" in f.message
    assert "'weu' in privatelink.his.arc.azure.com has 10.10.1.99, not 10.10.1.5" in f.message


def test_good_example_is_clean_for_all_rules():
    ix = loads(GOOD)
    ours = [f"APL{n:03d}" for n in range(14, 26)]
    assert [f.message for f in rules.run(ix, only=ours)] == []


# --- cost: per site, not per cluster --------------------------------------------------------------


def _many_clusters(per_site: int) -> str:
    lines = []
    for site in ("store-amsterdam", "store-rotterdam", "store-utrecht"):
        for k in range(per_site):
            lines.append(f"  - {{name: k3s-{site}-{k}, site: {site}, privateLinkState: Enabled, "
                         f"privateLinkScopeResourceId: pls-arc-retail, tools: {{connectedk8s: 1.11.2, azureCli: 2.70.0}}}}\n")
            lines.append(f"  - {{name: k3s-{site}-lab-{k}, site: {site}}}\n")
    return GOOD + "".join(lines)


def test_resolutions_do_not_grow_with_clusters(monkeypatch):
    calls = []
    real = trace.resolve

    def counting(ix, view, name, qtype="A"):
        calls.append((view.kind, view.name, name))
        return real(ix, view, name, qtype)

    monkeypatch.setattr(trace, "resolve", counting)
    ours = [f"APL{n:03d}" for n in range(14, 26)]
    counts = []
    for per_site in (5, 200):
        calls.clear()
        found = rules.run(loads(_many_clusters(per_site)), only=ours)
        counts.append(len(calls))
        assert sum(f.rule == "APL023" for f in found) == 3 * per_site  # every lab cluster is refused
    assert counts[0] == counts[1]
    assert counts[1] <= 3 * 12  # three sites, a dozen names each at most
