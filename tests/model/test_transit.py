"""Gateway transit (model.transit), overlapping ranges (model.address_space), NSG rules' plural fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from arclink.model import rules
from arclink.model.arm_codec import index_from_resources, resources_from_topology
from arclink.model.errors import TopologyError
from arclink.model.loader import load, loads
from arclink.model.nsg import evaluate_nsg
from arclink.model.reach import reach

ROOT = Path(__file__).resolve().parents[2]
HUB_SPOKE = ROOT / "tests" / "export" / "fixtures" / "hub-spoke.yaml"
HUB_LINE = "    peerings: [{virtualNetwork: vnet-spoke-arc, allowGatewayTransit: true}]\n"
SPOKE_LINE = "    peerings: [{virtualNetwork: vnet-hub, useRemoteGateways: true}]\n"


def _hub_spoke(hub: str = HUB_LINE, spoke: str = SPOKE_LINE):
    text = HUB_SPOKE.read_text()
    assert HUB_LINE in text and SPOKE_LINE in text
    return loads(text.replace(HUB_LINE, hub).replace(SPOKE_LINE, spoke))


def _pl_cluster(ix):
    return next(c for c in ix.clusters.values() if c.private_link and c.site is not None)


def _endpoint_address(ix) -> str:
    return ix.endpoints["pe-hs"].records[0].address


# --- 9: gateway transit --------------------------------------------------------------------------


def test_a_site_on_the_hub_reaches_the_spoke_with_both_flags():
    ix = _hub_spoke()
    c = _pl_cluster(ix)
    r = reach(ix, c, _endpoint_address(ix))
    assert r.admitted, r.to_dict()
    assert "peered with 'vnet-spoke-arc' (gateway transit)" in r.hops[0].detail
    assert not rules.run(ix, only=["APL015"])


@pytest.mark.parametrize(("hub", "spoke", "missing"), [
    ("    peerings: [vnet-spoke-arc]\n", SPOKE_LINE, ["the peering of 'vnet-hub' with 'vnet-spoke-arc' does not set allowGatewayTransit"]),
    (HUB_LINE, "", ["the peering of 'vnet-spoke-arc' with 'vnet-hub' does not set useRemoteGateways"]),
    ("    peerings: [vnet-spoke-arc]\n", "", ["allowGatewayTransit", "useRemoteGateways"]),
])
def test_a_missing_flag_stops_the_route_and_apl015_names_it(hub, spoke, missing):
    ix = _hub_spoke(hub, spoke)
    c = _pl_cluster(ix)
    r = reach(ix, c, _endpoint_address(ix))
    assert not r.admitted and r.code == "NoRouteToPrivateEndpoint"
    found = rules.run(ix, only=["APL015"])
    assert found, "APL015 reports the site"
    for f in found:
        for words in missing:
            assert words in f.message and words in r.hops[0].detail
        assert ("allowGatewayTransit" in f.fix) == ("allowGatewayTransit" in " ".join(missing))


def test_flags_survive_arm_both_ways():
    """The model's flags become ARM's peering properties and come back (lint --emulator routes as lint)."""
    for hub, spoke in ((HUB_LINE, SPOKE_LINE), (HUB_LINE, "")):
        ix = _hub_spoke(hub, spoke)
        back = index_from_resources(*resources_from_topology(ix.topology))
        for name in ("vnet-hub", "vnet-spoke-arc"):
            v, w = ix.vnets[name], back.vnets[name]
            assert [(p.name, v.side(p).allow_gateway_transit, v.side(p).use_remote_gateways) for p in v.peers] == \
                [(p.name, w.side(p).allow_gateway_transit, w.side(p).use_remote_gateways) for p in w.peers]
        assert [f.path for f in rules.run(back, only=["APL015"])] == [f.path for f in rules.run(ix, only=["APL015"])]


def test_a_peering_listed_by_name_has_arms_default_flags():
    ix = _hub_spoke("    peerings: [vnet-spoke-arc]\n", "")
    hub, spoke = ix.vnets["vnet-hub"], ix.vnets["vnet-spoke-arc"]
    assert spoke in hub.peers and hub in spoke.peers
    assert not hub.side(spoke).allow_gateway_transit and not spoke.side(hub).use_remote_gateways


# --- 8: overlapping ranges -----------------------------------------------------------------------


def test_overlapping_subnets_are_refused_with_azures_code_and_the_line():
    text = HUB_SPOKE.read_text().replace("subnets: [{name: snet-pe, addressPrefix: 10.41.1.0/24}]",
                                         "subnets: [{name: snet-pe, addressPrefix: 10.41.1.0/24},\n"
                                         "              {name: snet-x, addressPrefix: 10.41.0.0/23}]")
    with pytest.raises(TopologyError) as exc:
        loads(text, file="t.yaml")
    assert exc.value.code == "NetcfgSubnetRangesOverlap" and exc.value.line is not None
    assert exc.value.path == "$.virtualNetworks[1].subnets[1].addressPrefix"


def test_overlapping_peered_spaces_are_refused():
    text = HUB_SPOKE.read_text().replace("addressSpace: [10.41.0.0/16]", "addressSpace: [10.41.0.0/16, 10.40.8.0/24]")
    with pytest.raises(TopologyError) as exc:
        loads(text)
    assert exc.value.code == "VnetAddressSpacesOverlap" and "10.40.8.0/24" in exc.value.message


def test_unpeered_vnets_may_overlap():
    """Azure lets two VNets share a range; only peering them is refused."""
    text = HUB_SPOKE.read_text().replace(HUB_LINE, "").replace(SPOKE_LINE, "") \
        .replace("addressSpace: [10.41.0.0/16]", "addressSpace: [10.40.0.0/16]") \
        .replace("10.41.1.0/24", "10.40.1.0/24").replace("10.41.1.", "10.40.1.")
    loads(text)


# --- 8: NSG rules' plural fields -----------------------------------------------------------------


PLURAL_NSG = """
networkSecurityGroups:
  - name: nsg-pe
    securityRules:
      - {name: AllowSitesOnly, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,
         sourceAddressPrefixes: [192.168.99.0/24, SITES], destinationPortRanges: ["80", "440-450"]}
      - {name: DenyRest, priority: 200, direction: Inbound, access: Deny}
"""


def _with_plural_nsg(sites: str):
    text = HUB_SPOKE.read_text().replace("subnets: [{name: snet-pe, addressPrefix: 10.41.1.0/24}]",
                                         "subnets: [{name: snet-pe, addressPrefix: 10.41.1.0/24, networkSecurityGroup: "
                                         "nsg-pe, privateEndpointNetworkPolicies: Enabled}]")
    return loads(text + PLURAL_NSG.replace("SITES", sites))


def test_an_allow_rule_with_only_plural_fields_admits():
    ix = _hub_spoke()
    c = _pl_cluster(ix)
    site_range = str(c.site.networks[0])
    allowed = _with_plural_nsg(site_range)
    r = reach(allowed, allowed.clusters[c.name.lower()], _endpoint_address(allowed))
    assert r.admitted, r.to_dict()
    assert any("AllowSitesOnly" in h.detail for h in r.hops)
    denied = _with_plural_nsg("10.99.0.0/16")
    r = reach(denied, denied.clusters[c.name.lower()], _endpoint_address(denied))
    assert not r.admitted and "DenyRest" in r.reason


def test_plural_port_ranges_are_matched_each():
    ix = _with_plural_nsg("0.0.0.0/0")
    nsg = ix.nsgs["nsg-pe"]
    assert evaluate_nsg(ix, nsg, "Inbound", "192.168.99.1", "10.41.1.4", 443, None).rule == "AllowSitesOnly"
    assert evaluate_nsg(ix, nsg, "Inbound", "192.168.99.1", "10.41.1.4", 22, None).rule == "DenyRest"


def test_apl009_reads_plural_fields():
    """The seed's allow rules written with plural fields count; a block written with them counts too."""
    good = load(ROOT / "examples" / "good.yaml")
    text = (ROOT / "examples" / "good.yaml").read_text()
    assert not rules.run(good, only=["APL009"])
    plural = text.replace("destinationAddressPrefix: AzureActiveDirectory, destinationPortRange: \"443\"",
                          "destinationAddressPrefixes: [AzureActiveDirectory], destinationPortRanges: [\"443\"]")
    assert plural != text
    assert not rules.run(loads(plural), only=["APL009"])
    broken = text.replace("destinationAddressPrefix: AzureActiveDirectory, destinationPortRange: \"443\"",
                          "destinationAddressPrefixes: [AzureActiveDirectory], destinationPortRanges: [\"80\"]")
    assert [f.rule for f in rules.run(loads(broken), only=["APL009"])] == ["APL009"]
