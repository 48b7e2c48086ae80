"""Resources are identified by ARM id: the same names in two resource groups are two resources.

tests/model/cases/same-names.yaml has vnet-hub, pls-arc, pe-arc and the three Arc zones in both rg-a and
rg-b. Names resolve in the referring resource's own resource group first, then across the topology;
a name that is neither is an ambiguity error.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from arclink.model import arm_codec as codec
from arclink.model import rules
from arclink.model.errors import TopologyError
from arclink.model.loader import load, loads
from arclink.model.resolve import resolve, view_for
from arclink.model.trace import cluster_trace, path_resources

CASE = Path(__file__).parent / "cases" / "same-names.yaml"
TEXT = CASE.read_text()
SUB = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"
NETS = {"rg-a": ipaddress.ip_network("10.1.1.0/24"), "rg-b": ipaddress.ip_network("10.2.1.0/24")}


def _id(rg: str, rtype: str, name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/{rtype}/{name}"


def _variant(old: str, new: str, count: int = 1):
    assert TEXT.count(old) >= count, old
    return loads(TEXT.replace(old, new, count), file="same-names.yaml")


def test_both_resource_groups_are_in_the_model_each_wired_to_its_own():
    ix = load(CASE)
    assert [v.resource_group for v in ix.vnets.named("vnet-hub")] == ["rg-a", "rg-b"]
    assert len(ix.scopes) == 2 and len(ix.endpoints) == 2 and len(ix.zones) == 6
    for pe in ix.endpoints.values():
        rg = pe.resource_group
        assert (pe.vnet.resource_group, pe.scope.resource_group) == (rg, rg)
        assert {z.resource_group for z in pe.zones} == {rg}
        assert all(ipaddress.ip_address(r.address) in NETS[rg] for r in pe.records)
    for c in ix.clusters.values():
        assert c.scope.resource_group == c.resource_group
    # ids look up each one; the shared name alone means neither
    assert ix.vnet(_id("rg-b", "Microsoft.Network/virtualNetworks", "VNET-HUB")).resource_group == "rg-b"
    assert ix.vnet("vnet-hub") is None and "vnet-hub" not in ix.vnets
    with pytest.raises(KeyError):
        ix.scopes["pls-arc"]


def test_lint_reports_on_each_naming_its_resource_group():
    assert rules.run(load(CASE)) == []
    ix = _variant("    groupIds: [hybridcompute]\n", "    groupIds: [hybridcompute]\n    manualApproval: true\n", 2)
    pending = [f for f in rules.run(ix) if f.rule == "APL019"]
    assert sorted(f.resource for f in pending) == sorted(pe.id for pe in ix.endpoints.values())
    messages = sorted(f.message for f in pending)
    assert "private endpoint 'pe-arc' (rg-a) to Azure Arc Private Link Scope 'pls-arc' (rg-a)" in messages[0]
    assert "private endpoint 'pe-arc' (rg-b) to Azure Arc Private Link Scope 'pls-arc' (rg-b)" in messages[1]


def test_a_unique_name_keeps_its_plain_message():
    ix = _variant("    groupIds: [hybridcompute]\n", "    groupIds: [hybridcompute]\n    manualApproval: true\n")
    (f,) = [f for f in rules.run(ix) if f.rule == "APL019"]
    assert "'dnspr-a'" not in f.message and "'site-a'" not in f.message  # sites and forwarders: plain names
    assert ix.sites["site-a"].name == "site-a"


def test_explain_traces_each_cluster_to_its_own_endpoint_and_zones():
    ix = load(CASE)
    for c in ix.clusters.values():
        trace = cluster_trace(ix, c)
        assert trace.admitted, trace.failure
        addresses = [a for n in trace.names for a in n.resolution.addresses]
        assert addresses and all(ipaddress.ip_address(a) in NETS[c.resource_group] for a in addresses)
        used = path_resources(ix, trace.names)
        assert {r.resource_group for r in used} == {c.resource_group}
        assert {type(r).__name__ for r in used} == {"ZoneR", "PeR", "VNetR"}


def test_views_of_two_vnets_of_one_name():
    ix = load(CASE)
    with pytest.raises(LookupError, match=r"'vnet-hub' is ambiguous: .*/rg-a/.* or .*/rg-b/.*; use the ARM id"):
        view_for(ix, "vnet-hub")
    for rg, net in NETS.items():
        for source in (_id(rg, "Microsoft.Network/virtualNetworks", "vnet-hub"), str(net.network_address + 9)):
            view = view_for(ix, source)
            assert view.kind == "vnet" and view.name == "vnet-hub"
            (address,) = resolve(ix, view, "gbl.his.arc.azure.com").addresses
            assert ipaddress.ip_address(address) in net


def test_a_shared_name_outside_both_resource_groups_is_ambiguous():
    # site-a's connection by name: sites have no resource group, and two VNets have the name
    old = f"virtualNetwork: {_id('rg-a', 'Microsoft.Network/virtualNetworks', 'vnet-hub')}}}"
    with pytest.raises(TopologyError) as err:
        _variant(old, "virtualNetwork: vnet-hub}")
    text = str(err.value)
    assert err.value.code == "AmbiguousReference"
    line = TEXT[:TEXT.index(old)].count("\n") + 1
    assert text.startswith(f"same-names.yaml:{line}: at $.sites[0].connections[0].virtualNetwork: 'vnet-hub' is ambiguous: ")
    assert text.endswith(f"{_id('rg-a', 'Microsoft.Network/virtualNetworks', 'vnet-hub')} or "
                         f"{_id('rg-b', 'Microsoft.Network/virtualNetworks', 'vnet-hub')}; use the ARM id.")


def test_a_name_unique_in_the_topology_resolves_from_any_resource_group():
    ix = _variant("  - {name: pls-arc, resourceGroup: rg-b}", "  - {name: pls-arc-b, resourceGroup: rg-b}")
    # the rg-b endpoint still names 'pls-arc': now only rg-a has it, so that is the one
    pe_b = ix.endpoints[_id("rg-b", "Microsoft.Network/privateEndpoints", "pe-arc")]
    assert pe_b.scope.resource_group == "rg-a"


def test_the_same_name_twice_in_one_resource_group_is_still_a_duplicate():
    with pytest.raises(TopologyError) as err:
        _variant("  - {name: pls-arc, resourceGroup: rg-b}", "  - {name: pls-arc, resourceGroup: rg-a}")
    assert err.value.code == "DuplicateName"


def test_through_arm_resources_and_back_both_stay():
    ix = load(CASE)
    resources, onprem = codec.resources_from_topology(ix.topology)
    again = codec.index_from_resources(resources, onprem)
    for table in ("vnets", "scopes", "endpoints", "zones", "clusters"):
        assert sorted(getattr(again, table)) == sorted(getattr(ix, table)), table
    for key, pe in again.endpoints.items():
        assert [r.address for r in pe.records] == [r.address for r in ix.endpoints[key].records]
        assert [z.id.lower() for z in pe.zones] == [z.id.lower() for z in ix.endpoints[key].zones]
    assert rules.run(again) == []
