"""The index: a topology resolved into linked objects, looked up by name or ARM id, and refused when inconsistent."""

from __future__ import annotations

import pytest

from arclink.model.errors import TopologyError

from model_fixtures import example, variant

SUB = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"
SCOPE_ID = f"/subscriptions/{SUB}/resourceGroups/rg-arc-hub/providers/Microsoft.HybridCompute/privateLinkScopes/pls-arc-retail"


def test_defaults_and_ids_come_from_the_topology():
    ix = example()
    assert (ix.default_subscription, ix.default_resource_group, ix.default_location) == (SUB, "rg-arc-hub", "westeurope")
    assert ix.scope("pls-arc-retail").id == SCOPE_ID
    assert ix.cluster("k3s-amsterdam").id.endswith("/resourceGroups/rg-arc-clusters/providers/"
                                                  "Microsoft.Kubernetes/connectedClusters/k3s-amsterdam")
    assert all(key == key.lower() for key in ix.by_id) and ix.by_id[SCOPE_ID.lower()] is ix.scope("pls-arc-retail")


def test_lookups_ignore_case_and_take_ids_of_the_same_resource_only():
    ix = example()
    scope = ix.scope("pls-arc-retail")
    assert ix.scope("PLS-Arc-Retail") is scope and ix.scope(SCOPE_ID.upper()) is scope
    assert ix.scope(SCOPE_ID.replace(SUB, "00000000-0000-0000-0000-000000000000")) is None  # same name, other resource
    assert ix.cluster("K3S-AMSTERDAM").name == "k3s-amsterdam" and ix.vnet("VNET-HUB").name == "vnet-hub"
    assert ix.zone("PrivateLink.His.Arc.Azure.com.").zone_name == "privatelink.his.arc.azure.com"
    assert ix.scope(None) is None and ix.site("store-nowhere") is None


def test_objects_are_linked_both_ways():
    ix = example()
    scope, pe = ix.scope("pls-arc-retail"), ix.endpoints["pe-arc-retail"]
    assert [c.name for c in ix.clusters_in(scope)] == ["k3s-amsterdam", "k3s-rotterdam", "k3s-utrecht"]
    assert scope.endpoints == [pe] and pe.scope is scope and pe.vnet is ix.vnet("vnet-hub")
    amsterdam = ix.site("store-amsterdam")
    assert [c.name for c in ix.clusters_in(amsterdam)] == ["k3s-amsterdam"] and ix.cluster("k3s-amsterdam").site is amsterdam
    assert [(kind, v.name) for kind, v in amsterdam.connections] == [("ExpressRoute", "vnet-hub")]
    assert {z.zone_name for z, _ in ix.vnet("vnet-hub").zone_links} == {
        "privatelink.his.arc.azure.com", "privatelink.guestconfiguration.azure.com",
        "privatelink.dp.kubernetesconfiguration.azure.com", "privatelink.monitor.azure.com"}
    assert ix.forwarders_by_ip["10.10.3.4"].name == "dnspr-hub-inbound"


def test_endpoint_addresses_are_allocated_in_its_subnet_and_written_to_its_zones():
    ix = example()
    pe = ix.endpoints["pe-arc-retail"]
    allocated = {r.record.fqdn: r.address for r in pe.records}
    assert allocated["gbl.his.arc.azure.com"] == "10.10.1.4" and len(set(allocated.values())) == len(allocated)
    assert all(a.startswith("10.10.1.") for a in allocated.values())
    assert pe.address_of("GBL.his.arc.azure.com.") == "10.10.1.4" == pe.address_of("gbl.privatelink.his.arc.azure.com")
    zone = ix.zone("privatelink.his.arc.azure.com")
    assert zone.records[("gbl", "A")].addresses == ["10.10.1.4"]
    assert zone.records[("gbl", "A")].source == "zoneGroup:pe-arc-retail"
    assert ix.endpoints["pe-ampls-retail"].records == []  # not an Arc endpoint: no Arc names


def test_clusters_get_an_address_on_their_site():
    ix = example()
    for c in ix.clusters.values():
        assert ix.locate(c.address) is c.site


def test_locate_prefers_the_most_specific_network():
    ix = example()
    assert ix.locate("192.168.10.7").name == "store-amsterdam" and ix.locate("10.10.1.9").name == "vnet-hub"
    assert ix.locate("8.8.8.8") is None and ix.locate("not an address") is None
    ix = variant(("virtualNetworks:\n", "virtualNetworks:\n  - name: vnet-wide\n    addressSpace: [192.168.0.0/16]\n"))
    assert ix.locate("192.168.10.7").name == "store-amsterdam" and ix.locate("192.168.99.1").name == "vnet-wide"


@pytest.mark.parametrize("old, new, code, path", [
    ("  - name: k3s-rotterdam\n", "  - name: K3S-Amsterdam\n", "DuplicateName", "$.clusters[1].name"),
    ("    privateLinkScopeResourceId: pls-arc-retail\n    extensions: [microsoft.flux]\n",
     "    privateLinkScopeResourceId: pls-nowhere\n    extensions: [microsoft.flux]\n",
     "DanglingReference", "$.clusters[1].privateLinkScopeResourceId"),
    ("subnet: vnet-hub/snet-endpoints\n    privateLinkServiceId: pls-arc-retail",
     "subnet: vnet-hub/snet-nowhere\n    privateLinkServiceId: pls-arc-retail", "DanglingReference", "$.privateEndpoints[0].subnet"),
])
def test_an_inconsistent_topology_is_refused_where_it_goes_wrong(old, new, code, path):
    with pytest.raises(TopologyError) as err:
        variant((old, new))
    assert (err.value.code, err.value.path) == (code, path)


def test_no_cycle_reaches_a_cluster_so_a_version_frees_by_reference_counts():
    """The live model frees a replaced version without the collector's full pass (``arm.retired``):
    nothing in the network refers back to the clusters, whose lists are the index's own."""
    import gc
    import weakref

    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        ix = example()
        clusters = [weakref.ref(c) for c in ix.clusters.values()]
        specs = [weakref.ref(ix.clusters_in(ix.site("store-amsterdam"))[0])]
        assert clusters and all(c() is not None for c in clusters)
        del ix
        assert all(c() is None for c in clusters + specs), "a cluster outlived its version: a cycle holds it"
    finally:
        if was:
            gc.enable()
