"""The read side of each SDK client: gets and lists by resource group, subscription and parent."""

from __future__ import annotations

from . import arm_fixtures


def test_reads_through_every_client(clients):
    c = clients
    arm_fixtures.start(c)
    vnet = arm_fixtures.vnet(c, "rg", "vnet")
    scope = arm_fixtures.scope(c, "rg", "pls")
    arm_fixtures.endpoint(c, "rg", "pe", vnet.id + "/subnets/snet-pe", scope.id)
    zone_ids = arm_fixtures.zones(c, "rg", vnet.id)
    arm_fixtures.zone_group(c, "rg", "pe", zone_ids)
    arm_fixtures.cluster(c, "rg", "k1", scope.id)
    c.config.extensions.begin_create("rg", "Microsoft.Kubernetes", "connectedClusters", "k1", "flux",
                                     {"properties": {"extensionType": "microsoft.flux"}}).result()

    assert [g.name for g in c.resources.resource_groups.list()] == ["rg"]
    assert c.hybridcompute.private_link_scopes.update_tags("rg", "pls", {"tags": {"a": "b"}}).tags == {"a": "b"}
    plr = list(c.hybridcompute.private_link_resources.list_by_private_link_scope("rg", "pls"))
    assert plr[0].properties.group_id == "hybridcompute"
    assert "privatelink.dp.kubernetesconfiguration.azure.com" in plr[0].properties.required_zone_names
    assert c.hybridcompute.private_link_resources.get("rg", "pls", "hybridcompute").name == "hybridcompute"
    assert [p.name for p in c.network.private_endpoints.list_by_subscription()] == ["pe"]
    assert [p.name for p in c.network.private_endpoints.list("rg")] == ["pe"]
    assert [s.name for s in c.network.subnets.list("rg", "vnet")] == ["snet-pe"]
    assert [g.name for g in c.network.private_dns_zone_groups.list("pe", "rg")] == ["default"]
    assert len(list(c.dns.private_zones.list())) == 3
    assert len(list(c.dns.private_zones.list_by_resource_group("rg"))) == 3
    assert [l.name for l in c.dns.virtual_network_links.list("rg", "privatelink.his.arc.azure.com")] == ["link-hub"]
    a = [r.name for r in c.dns.record_sets.list_by_type("rg", "privatelink.his.arc.azure.com", "A")]
    assert sorted(a) == ["gbl", "weu"]
    zone = c.dns.private_zones.get("rg", "privatelink.his.arc.azure.com")
    assert zone.number_of_virtual_network_links == 1 and zone.number_of_record_sets == 3
    assert [k.name for k in c.k8s.connected_cluster.list_by_resource_group("rg")] == ["k1"]
    assert [e.name for e in c.config.extensions.list("rg", "Microsoft.Kubernetes", "connectedClusters", "k1")] == ["flux"]
    assert c.config.extensions.get("rg", "Microsoft.Kubernetes", "connectedClusters", "k1", "flux").provisioning_state \
        == "Succeeded"


def test_generic_resource_lists(clients):
    c = clients
    arm_fixtures.start(c)
    c.resources.resource_groups.create_or_update("rg2", {"location": "westeurope"})
    arm_fixtures.vnet(c, "rg", "vnet")
    arm_fixtures.scope(c, "rg", "pls")
    arm_fixtures.scope(c, "rg2", "pls2")
    in_rg = sorted(r.name for r in c.resources.resources.list_by_resource_group("rg"))
    assert in_rg == ["pls", "vnet"]  # top-level resources only (no subnets)
    everything = sorted(r.name for r in c.resources.resources.list())
    assert everything == ["pls", "pls2", "vnet"]
    ops = [o.name for o in c.k8s.operations.get()]
    assert "Microsoft.Kubernetes/connectedClusters/write" in ops


def test_nsg_rules_as_child_resources(clients):
    import pytest
    from azure.core.exceptions import HttpResponseError

    c = clients
    arm_fixtures.start(c)
    c.network.network_security_groups.begin_create_or_update("rg", "nsg", {"location": "westeurope"}).result()
    seed_rules = [("AllowAADOutboundAccess", "AzureActiveDirectory", 150), ("AllowAzOutboundAccess", "AzureResourceManager", 151),
                  ("AllowAzureFrontDoorFirstPartyAccess", "AzureFrontDoor.FirstParty", 152),
                  ("AllowMCROutboundAccess", "MicrosoftContainerRegistry", 153)]
    for name, tag, prio in seed_rules:
        c.network.security_rules.begin_create_or_update("rg", "nsg", name, {"properties": {
            "priority": prio, "direction": "Outbound", "access": "Allow", "protocol": "Tcp",
            "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": tag,
            "destinationPortRange": "443"}}).result()
    with pytest.raises(HttpResponseError) as exc:
        c.network.security_rules.begin_create_or_update("rg", "nsg", "Clash", {"properties": {
            "priority": 150, "direction": "Outbound", "access": "Deny", "protocol": "*"}}).result()
    assert exc.value.error.code == "SecurityRuleConflict"
    nsg = c.network.network_security_groups.get("rg", "nsg")
    rules = (getattr(nsg, "properties", None) or nsg).security_rules
    assert [r["name"] if isinstance(r, dict) else r.name for r in rules] == [n for n, _, _ in seed_rules]
    assert [r.name for r in c.network.security_rules.list("rg", "nsg")] == [n for n, _, _ in seed_rules]
    c.network.security_rules.begin_delete("rg", "nsg", "AllowMCROutboundAccess").result()
    ix = c.svc.live.index
    assert [r.name for r in ix.nsgs["nsg"].spec.security_rules] == [n for n, _, _ in seed_rules[:3]]
    # a PUT of the NSG with inline rules replaces the child rules
    c.network.network_security_groups.begin_create_or_update("rg", "nsg", {"location": "westeurope", "properties": {
        "securityRules": [{"name": "Only", "properties": {"priority": 200, "direction": "Inbound", "access": "Deny",
                                                           "protocol": "*"}}]}}).result()
    assert [r.name for r in c.network.security_rules.list("rg", "nsg")] == ["Only"]


def test_vnet_peering_both_ways(clients):
    c = clients
    arm_fixtures.start(c)
    hub = arm_fixtures.vnet(c, "rg", "hub", prefix="10.10.0.0/16", subnet="10.10.1.0/24")
    spoke = arm_fixtures.vnet(c, "rg", "spoke", prefix="10.20.0.0/16", subnet="10.20.1.0/24")
    hub_id = hub["id"] if isinstance(hub, dict) else hub.id
    spoke_id = spoke["id"] if isinstance(spoke, dict) else spoke.id

    def peer(rg_vnet, name, remote):
        return c.network.virtual_network_peerings.begin_create_or_update(
            "rg", rg_vnet, name, {"properties": {"remoteVirtualNetwork": {"id": remote},
                                                 "allowVirtualNetworkAccess": True}}).result()

    def state(model):
        return (getattr(model, "properties", None) or model).peering_state

    assert state(peer("hub", "hub-to-spoke", spoke_id)) == "Initiated"
    assert c.svc.live.index.vnets["hub"].peers == []  # one side only: no traffic yet
    assert state(peer("spoke", "spoke-to-hub", hub_id)) == "Connected"
    assert state(c.network.virtual_network_peerings.get("rg", "hub", "hub-to-spoke")) == "Connected"
    assert [v.name for v in c.svc.live.index.vnets["hub"].peers] == ["spoke"]
    c.network.virtual_network_peerings.begin_delete("rg", "spoke", "spoke-to-hub").result()
    assert state(c.network.virtual_network_peerings.get("rg", "hub", "hub-to-spoke")) == "Disconnected"
    assert c.svc.live.index.vnets["hub"].peers == []


def test_patch_pollers(clients):
    c = clients
    arm_fixtures.start(c)
    scope = arm_fixtures.scope(c, "rg", "pls")
    arm_fixtures.cluster(c, "rg", "k1", scope.id)
    c.config.extensions.begin_create("rg", "Microsoft.Kubernetes", "connectedClusters", "k1", "flux",
                                     {"properties": {"extensionType": "microsoft.flux"}}).result()
    ext = c.config.extensions.begin_update("rg", "Microsoft.Kubernetes", "connectedClusters", "k1", "flux",
                                           {"properties": {"configurationSettings": {"a": "b"}}}).result()
    assert ext.configuration_settings == {"a": "b"} and ext.extension_type == "microsoft.flux"
    c.dns.private_zones.begin_create_or_update("rg", "zone.example", {"location": "global"}).result()
    z = c.dns.private_zones.begin_update("rg", "zone.example", {"tags": {"t": "1"}}).result()
    assert z.tags == {"t": "1"}
    c.resources.resource_groups.update("rg", {"tags": {"env": "test"}})
    assert c.resources.resource_groups.get("rg").tags == {"env": "test"}
    c.config.extensions.begin_delete("rg", "Microsoft.Kubernetes", "connectedClusters", "k1", "flux").result()
    assert list(c.config.extensions.list("rg", "Microsoft.Kubernetes", "connectedClusters", "k1")) == []
