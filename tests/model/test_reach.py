"""reach(): whether a cluster's connection to an address gets through and is admitted, with the reason code.

Each refusal of design.md's admission list is produced from a topology that has exactly that fault.
"""

from __future__ import annotations

import pytest

from arclink.model import catalogue as cat
from arclink.model.reach import ADMITTED, REASONS, endpoint_at, firewall_allows, reach

from model_fixtures import example, variant

GBL = "gbl.his.arc.azure.com"
GBL_PUBLIC = cat.public_address("gbl.privatelink.his.arc.azure.com")
OPEN_FIREWALLS = ("    firewall:\n      outbound: [AzureActiveDirectory, AzureResourceManager, MicrosoftContainerRegistry, "
                  "AzureFrontDoor.FirstParty]\n      inbound: [AzureFrontDoor.FirstParty]\n  - name: store-rotterdam",
                  "    firewall: {allowAll: true}\n  - name: store-rotterdam")


def hops(r) -> list[tuple[str, bool]]:
    return [(h.what, h.ok) for h in r.hops]


@pytest.mark.parametrize("cluster", ["k3s-amsterdam", "k3s-rotterdam", "k3s-utrecht"])
def test_every_good_cluster_is_admitted_at_the_endpoint(cluster):
    ix = example()
    r = reach(ix, ix.cluster(cluster), "10.10.1.4", GBL)
    assert (r.admitted, r.code, r.path, r.endpoint, r.scope) == (True, ADMITTED, "private", "pe-arc-retail", "pls-arc-retail")
    assert hops(r) == [("route", True), ("private endpoint connection", True), ("admission", True)]
    assert r.to_dict()["admitted"] is True and r.reason == ""


def test_an_unknown_key_is_not_registered():
    ix = example()
    r = reach(ix, None, "10.10.1.4", GBL, src_address="192.168.10.20")
    assert (r.admitted, r.code, r.path) == (False, "ClusterNotRegistered", "private")
    assert r.reason == REASONS["ClusterNotRegistered"]


def test_a_site_without_a_connection_has_no_route():
    ix = variant(("    connections: [{type: ExpressRoute, virtualNetwork: vnet-hub}]\n", "    connections: []\n"))
    r = reach(ix, ix.cluster("k3s-amsterdam"), "10.10.1.4", GBL)
    assert (r.admitted, r.code) == (False, "NoRouteToPrivateEndpoint") and hops(r) == [("route", False)]
    assert reach(ix, ix.cluster("k3s-rotterdam"), "10.10.1.4", GBL).admitted  # the other sites keep theirs


def test_an_nsg_on_the_endpoint_subnet_applies_only_with_network_policies():
    deny = ("      - {name: DenyInternetOutbound,",
            "      - {name: DenyAmsterdam, priority: 100, direction: Inbound, access: Deny, protocol: Tcp,\n"
            "         sourceAddressPrefix: 192.168.10.0/24, destinationAddressPrefix: '*', destinationPortRange: \"443\"}\n"
            "      - {name: DenyInternetOutbound,")
    ix = variant(deny)
    assert reach(ix, ix.cluster("k3s-amsterdam"), "10.10.1.4", GBL).admitted  # policies Disabled: the NSG is bypassed
    ix = variant(deny, ("        networkSecurityGroup: nsg-hub-endpoints\n",
                        "        networkSecurityGroup: nsg-hub-endpoints\n        privateEndpointNetworkPolicies: Enabled\n"))
    r = reach(ix, ix.cluster("k3s-amsterdam"), "10.10.1.4", GBL)
    assert (r.admitted, r.code) == (False, "BlockedByFirewall")
    assert hops(r) == [("route", True), ("NSG 'nsg-hub-endpoints'", False)] and "'DenyAmsterdam'" in r.reason
    assert reach(ix, ix.cluster("k3s-rotterdam"), "10.10.1.4", GBL).admitted  # other sources pass


def test_a_pending_connection_is_not_approved():
    ix = example("broken/pending-endpoint-connection.yaml")
    r = reach(ix, ix.cluster("k3s-amsterdam"), "10.10.1.4", GBL)
    assert (r.admitted, r.code) == (False, "PrivateEndpointConnectionNotApproved")
    assert hops(r)[-1] == ("private endpoint connection", False)


def test_a_cluster_of_no_scope_is_refused_at_the_endpoint():
    ix = example("broken/cluster-not-associated-with-scope.yaml")
    refused = reach(ix, ix.cluster("k3s-utrecht"), "10.10.1.4", GBL)
    assert (refused.admitted, refused.code) == (False, "ClusterNotAssociatedWithScope")
    assert reach(ix, ix.cluster("k3s-amsterdam"), "10.10.1.4", GBL).admitted


def test_a_cluster_naming_the_scope_without_private_link_is_refused():
    ix = variant(append="  - name: k3s-half\n    site: store-amsterdam\n    privateLinkState: Disabled\n"
                        "    privateLinkScopeResourceId: pls-arc-retail\n")
    r = reach(ix, ix.cluster("k3s-half"), "10.10.1.4", GBL)
    assert (r.admitted, r.code) == (False, "PrivateLinkNotEnabledForCluster")


def test_an_endpoint_of_another_service_is_not_an_arc_endpoint():
    ix = example()
    monitor = ix.endpoints["pe-ampls-retail"]
    assert not monitor.is_arc and ix.endpoints["pe-arc-retail"].is_arc
    r = reach(ix, ix.cluster("k3s-amsterdam"), "8.8.8.8", "example.org")
    assert (r.admitted, r.code, r.path) == (False, "NotAnArcEndpoint", "none")


def test_a_private_address_that_is_no_endpoint_has_nothing_listening():
    ix = example()
    r = reach(ix, ix.cluster("k3s-amsterdam"), "10.10.9.9")
    assert (r.admitted, r.code, r.path) == (False, "NoRouteToPrivateEndpoint", "none")
    assert "Nothing listens on 10.10.9.9." in r.reason


def test_the_public_endpoint_needs_the_firewall_and_public_access():
    ix = example()
    blocked = reach(ix, ix.cluster("k3s-amsterdam"), GBL_PUBLIC, GBL)
    assert (blocked.admitted, blocked.code, blocked.path) == (False, "BlockedByFirewall", "public")
    assert hops(blocked) == [("site firewall", False)]

    ix = variant(OPEN_FIREWALLS)
    closed = reach(ix, ix.cluster("k3s-amsterdam"), GBL_PUBLIC, GBL)
    assert (closed.admitted, closed.code, closed.scope) == (False, "PublicNetworkAccessDisabled", "pls-arc-retail")

    ix = variant(OPEN_FIREWALLS, ("    publicNetworkAccess: Disabled\n", "    publicNetworkAccess: Enabled\n"))
    opened = reach(ix, ix.cluster("k3s-amsterdam"), GBL_PUBLIC, GBL)
    assert (opened.admitted, opened.code, opened.path) == (True, ADMITTED, "public")
    assert opened.warnings and "pls-arc-retail" in opened.warnings[0]


def test_endpoint_at_and_firewall_allows():
    ix = example()
    pe, rec = endpoint_at(ix, "10.10.1.8")
    assert pe.name == "pe-arc-retail" and rec.record.fqdn == "dp.kubernetesconfiguration.azure.com"
    assert endpoint_at(ix, "10.10.1.99") is None and endpoint_at(ix, GBL_PUBLIC) is None
    amsterdam = ix.site("store-amsterdam")
    assert firewall_allows(amsterdam, "AzureResourceManager") and firewall_allows(amsterdam, "azureresourcemanager")
    assert not firewall_allows(amsterdam, cat.TAG_ARC)
    assert firewall_allows(amsterdam, "AzureFrontDoor.FirstParty", inbound=True)
    assert not firewall_allows(amsterdam, "AzureResourceManager", inbound=True)
    assert firewall_allows(None, cat.TAG_ARC)  # no site, no firewall modelled


def test_every_refusal_has_a_reason_sentence():
    assert all(text.endswith(".") for text in REASONS.values())
    assert ADMITTED not in REASONS
