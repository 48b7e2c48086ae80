"""The ARM surface the Azure CLI reads beyond the seed's resources, through the SDKs and raw HTTPS:
filtered generic lists, locations, tenants and subscriptions, private endpoint NICs, back-references,
the zone's SOA record, Azure Monitor scopes, DNS private resolvers, peerings, missing targets."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from . import arm_fixtures as flow

RES = "2025-04-01"


def _setup(c):
    flow.start(c)
    c.resources.providers.register("Microsoft.Insights")
    vnet = flow.vnet(c, "rg", "vnet")
    scope = flow.scope(c, "rg", "pls")
    return vnet, scope


def test_generic_list_filters_expand_and_paging(clients):
    c = clients
    vnet, _ = _setup(c)
    c.resources.resource_groups.create_or_update("rg2", {"location": "eastus"})
    flow.scope(c, "rg2", "pls-east", location="eastus")
    c.hybridcompute.private_link_scopes.update_tags("rg", "pls", {"tags": {"env": "prod", "team": "net"}})

    names = lambda **kw: sorted(r.name for r in c.resources.resources.list(**kw))  # noqa: E731
    assert names(filter="resourceGroup eq 'rg2'") == ["pls-east"]
    assert names(filter="resourceType eq 'Microsoft.Network/virtualNetworks'") == ["vnet"]
    assert names(filter="location eq 'eastus'") == ["pls-east"]
    assert names(filter="name eq 'PLS'") == ["pls"]
    assert names(filter="substringof('east', name)") == ["pls-east"]
    assert names(filter="resourceType eq 'Microsoft.HybridCompute/privateLinkScopes' and location eq 'westeurope'") \
        == ["pls"]
    assert names(filter="(name eq 'vnet' or name eq 'pls-east') and location eq 'westeurope'") == ["vnet"]
    tagged = list(c.resources.resources.list(filter="tagName eq 'env' and tagValue eq 'prod'"))
    assert [r.name for r in tagged] == ["pls"] and not tagged[0].tags  # ARM leaves tags out of a tag filter
    assert names(filter="tagName eq 'env' and tagValue eq 'dev'") == []
    # the resource-group list honours the filter too (az resource list -g)
    assert sorted(r.name for r in c.resources.resources.list_by_resource_group(
        "rg", filter="resourceType eq 'Microsoft.Network/virtualNetworks'")) == ["vnet"]

    # rows are generic: no properties; $expand adds the times and the state
    status, body = c.raw("GET", f"/subscriptions/{c.sub}/resources", api_version=RES)
    assert status == 200 and all("properties" not in r for r in body["value"])
    row = next(r for r in body["value"] if r["name"] == "vnet")
    assert row["type"] == "Microsoft.Network/virtualNetworks" and row["location"] == "westeurope"
    assert "createdTime" not in row
    got = list(c.resources.resources.list(expand="createdTime,changedTime,provisioningState",
                                          filter="name eq 'vnet'"))
    assert got[0].provisioning_state == "Succeeded" and got[0].created_time and got[0].changed_time

    # paging: $top with a nextLink that keeps the filter
    status, page1 = c.raw("GET", f"/subscriptions/{c.sub}/resources?$top=1&$filter=location eq 'westeurope'",
                          api_version=RES)
    assert status == 200 and len(page1["value"]) == 1 and "nextLink" in page1
    link = urlsplit(page1["nextLink"])  # encoded: followed verbatim by strict clients
    assert " " not in page1["nextLink"] and link.path == f"/subscriptions/{c.sub}/resources"
    assert parse_qs(link.query)["$filter"] == ["location eq 'westeurope'"] and parse_qs(link.query)["$skiptoken"] == ["1"]
    everything = list(c.resources.resources.list(top=1, filter="location eq 'westeurope'"))  # follows nextLink
    assert sorted(r.name for r in everything) == ["pls", "vnet"]


@pytest.mark.parametrize("bad", ["managedBy eq 'x'", "name ne 'x'", "name eq", "name eq 'x' and", "(name eq 'x'",
                                 "tagValue eq 'x'", "substringof('x', location)", "name eq 'x' nonsense"])
def test_unsupported_filters_are_refused(clients, bad):
    c = clients
    flow.start(c)
    status, body = c.raw("GET", f"/subscriptions/{c.sub}/resources?$filter={bad}", api_version=RES)
    assert status == 400 and body["error"]["code"] == "InvalidFilterInQueryString", body


def test_locations_tenants_and_subscription_names(clients):
    c = clients  # azure-mgmt-resource 26 has no subscriptions client: raw HTTPS, as az account sends it
    status, body = c.raw("GET", f"/subscriptions/{c.sub}/locations", api_version="2022-12-01")
    locs = {loc["name"]: loc for loc in body["value"]}
    assert status == 200 and locs["westeurope"]["displayName"] == "West Europe"
    assert locs["westeurope"]["regionalDisplayName"] == "(Europe) West Europe"
    assert locs["eastus"]["metadata"]["geographyGroup"] == "US" and locs["eastus"]["metadata"]["regionType"] == "Physical"
    assert locs["westeurope"]["id"] == f"/subscriptions/{c.sub}/locations/westeurope"
    tenant = c.svc.endpoints["tenant"]
    status, body = c.raw("GET", "/tenants", api_version="2022-12-01")
    assert status == 200 and [t["tenantId"] for t in body["value"]] == [tenant]
    status, sub = c.raw("GET", f"/subscriptions/{c.sub}", api_version="2022-12-01")
    assert sub["displayName"] == "arclink emulator" and sub["tenantId"] == tenant and sub["state"] == "Enabled"

    # a topology's subscription name is the display name
    doc = {"subscriptions": [{"id": c.sub, "name": "Contoso Arc"}],
           "resourceGroups": [{"name": "rg-t", "location": "westeurope"}]}
    status, _ = c.raw("POST", "/_arclink/state", doc, api_version=None)
    assert status == 200
    assert c.raw("GET", f"/subscriptions/{c.sub}", api_version="2022-12-01")[1]["displayName"] == "Contoso Arc"
    status, body = c.raw("GET", "/subscriptions", api_version="2022-12-01")
    assert [s["displayName"] for s in body["value"]] == ["Contoso Arc"]


def test_private_endpoint_nic_and_back_references(clients):
    c = clients
    vnet, scope = _setup(c)
    nsg = c.network.network_security_groups.begin_create_or_update("rg", "nsg", {"location": "westeurope"}).result()
    c.network.subnets.begin_create_or_update("rg", "vnet", "snet-pe", {
        "properties": {"addressPrefix": "10.10.1.0/24", "networkSecurityGroup": {"id": nsg.id}}}).result()
    assert [s.id for s in c.network.network_security_groups.get("rg", "nsg").subnets] == [vnet.id + "/subnets/snet-pe"]

    pe = flow.endpoint(c, "rg", "pe", vnet.id + "/subnets/snet-pe", scope.id)
    nic_id = pe.network_interfaces[0].id
    assert nic_id.rsplit("/", 1)[-1].startswith("pe.nic.")
    nic = c.network.network_interfaces.get("rg", nic_id.rsplit("/", 1)[-1])
    assert nic.private_endpoint.id == pe.id
    ips = {cfg.private_ip_address: cfg for cfg in nic.ip_configurations}
    want = {d.ip_addresses[0]: d.fqdn for d in pe.custom_dns_configs}
    assert set(ips) == set(want) and len(ips) >= 3
    for ip, cfg in ips.items():
        props = cfg.private_link_connection_properties
        assert props.group_id == "hybridcompute" and want[ip] in props.fqdns
        assert props.required_member_name.startswith("HybridCompute.")
    # the subnet lists the endpoint and its addresses; the VNet's inline copy too
    subnet = c.network.subnets.get("rg", "vnet", "snet-pe")
    assert [p.id for p in subnet.private_endpoints] == [pe.id]
    assert sorted(i.id for i in subnet.ip_configurations) == sorted(cfg.id for cfg in nic.ip_configurations)
    inline = c.network.virtual_networks.get("rg", "vnet").subnets[0]
    assert [p.id for p in inline.private_endpoints] == [pe.id]
    # a VNet PUT of what a GET gave (az network vnet update) is accepted
    got = c.network.virtual_networks.get("rg", "vnet")
    c.network.virtual_networks.begin_create_or_update("rg", "vnet", got).result()

    # read-only: PUT and DELETE refused
    status, body = c.raw("PUT", nic_id, {"location": "westeurope", "properties": {}}, api_version="2024-05-01")
    assert status == 400 and body["error"]["code"] == "CannotModifyNicAttachedToPrivateEndpoint"
    status, body = c.raw("DELETE", nic_id, api_version="2024-05-01")
    assert status == 400 and body["error"]["code"] == "InUseNetworkInterfaceCannotBeDeleted"
    generic = {r.name: r for r in c.resources.resources.list_by_resource_group("rg")}
    assert generic[nic.name].type == "Microsoft.Network/networkInterfaces"

    # deleted with the endpoint; back-references go too
    c.network.private_endpoints.begin_delete("rg", "pe").result()
    with pytest.raises(ResourceNotFoundError):
        c.network.network_interfaces.get("rg", nic.name)
    subnet = c.network.subnets.get("rg", "vnet", "snet-pe")
    assert not subnet.private_endpoints and not subnet.ip_configurations
    c.network.subnets.begin_create_or_update("rg", "vnet", "snet-pe", {"properties": {"addressPrefix": "10.10.1.0/24"}}
                                             ).result()
    assert not c.network.network_security_groups.get("rg", "nsg").subnets


def test_zone_soa_and_record_set_lists(clients):
    c = clients
    flow.start(c)
    zone = "privatelink.his.arc.azure.com"
    z = c.dns.private_zones.begin_create_or_update("rg", zone, {"location": "global"}).result()
    assert z.number_of_record_sets == 1
    soa = c.dns.record_sets.get("rg", zone, "SOA", "@")
    r = soa.soa_record
    assert (r.host, r.email, r.serial_number, r.refresh_time, r.retry_time, r.expire_time, r.minimum_ttl) == \
        ("azureprivatedns.net", "azureprivatedns-host.microsoft.com", 1, 3600, 300, 2419200, 10)
    assert soa.ttl == 3600 and soa.fqdn == zone + "."
    c.dns.record_sets.create_or_update("rg", zone, "A", "gbl", {"ttl": 10, "aRecords": [{"ipv4Address": "10.0.0.4"}]})
    c.dns.record_sets.create_or_update("rg", zone, "TXT", "note", {"ttl": 10, "txtRecords": [{"value": ["x"]}]})
    assert [x.name for x in c.dns.record_sets.list_by_type("rg", zone, "A")] == ["gbl"]
    assert [x.name for x in c.dns.record_sets.list_by_type("rg", zone, "SOA")] == ["@"]
    assert sorted(x.type.rsplit("/", 1)[-1] for x in c.dns.record_sets.list("rg", zone)) == ["A", "SOA", "TXT"]
    base = f"/subscriptions/{c.sub}/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/{zone}"
    status, body = c.raw("GET", base + "/ALL", api_version="2024-06-01")
    assert status == 200 and len(body["value"]) == 3
    assert c.dns.private_zones.get("rg", zone).number_of_record_sets == 3
    status, body = c.raw("DELETE", base + "/SOA/@", api_version="2024-06-01")
    assert status == 400
    c.dns.private_zones.begin_delete("rg", zone).result()
    assert c.raw("GET", base + "/SOA/@", api_version="2024-06-01")[0] == 404


def _monitor(c):
    from azure.mgmt.monitor import MonitorManagementClient

    from arclink.sdk import EmulatorCredential, client_kwargs

    return MonitorManagementClient(EmulatorCredential(c.path), c.sub, **client_kwargs(c.path))


def test_azure_monitor_scope_reaches_the_model(clients):
    c = clients
    vnet, scope = _setup(c)
    mon = _monitor(c)
    ampls = mon.private_link_scopes.create_or_update("rg", "ampls", {"location": "global"})
    assert ampls.location == "global" and ampls.type == "Microsoft.Insights/privateLinkScopes"
    ws = f"/subscriptions/{c.sub}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law"
    mon.private_link_scoped_resources.begin_create_or_update("rg", "ampls", "law", {"linked_resource_id": ws}).result()
    assert [s.linked_resource_id for s in mon.private_link_scoped_resources.list_by_private_link_scope("rg", "ampls")] \
        == [ws]
    pe = flow.endpoint(c, "rg", "pe-mon", vnet.id + "/subnets/snet-pe", ampls.id, group="azuremonitor")
    conn = pe.private_link_service_connections[0]
    assert conn.private_link_service_connection_state.status == "Approved"
    pecs = mon.private_link_scopes.get("rg", "ampls").private_endpoint_connections
    assert [p.private_endpoint.id for p in pecs] == [pe.id]
    # the live model sees the endpoint to the Azure Monitor scope (what APL011 looks for)
    status, state = c.raw("GET", "/_arclink/state", api_version=None)
    targets = {e["privateLinkServiceId"].lower() for e in state["privateEndpoints"]}
    assert ampls.id.lower() in targets
    # an endpoint to a scope that does not exist is refused, not auto-approved
    missing = ampls.id[:-len("ampls")] + "nope"
    with pytest.raises(HttpResponseError) as err:
        flow.endpoint(c, "rg", "pe-nope", vnet.id + "/subnets/snet-pe", missing, group="azuremonitor")
    assert err.value.error.code == "InvalidResourceReference"
    with pytest.raises(HttpResponseError) as err:
        flow.endpoint(c, "rg", "pe-nope", vnet.id + "/subnets/snet-pe", scope.id[:-3] + "nope")
    assert err.value.error.code == "InvalidResourceReference"
    assert [p.name for p in c.network.private_endpoints.list("rg")] == ["pe-mon"]


def _resolver_client(c):
    from azure.mgmt.dnsresolver import DnsResolverManagementClient

    from arclink.sdk import EmulatorCredential, client_kwargs

    return DnsResolverManagementClient(EmulatorCredential(c.path), c.sub, **client_kwargs(c.path))


def test_dns_resolver_inbound_endpoint_is_a_forwarder(clients):
    c = clients
    flow.start(c)
    vnet = c.network.virtual_networks.begin_create_or_update("rg", "vnet-hub", {
        "location": "westeurope",
        "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]},
                       "subnets": [{"name": "snet-in", "properties": {"addressPrefix": "10.20.1.0/28"}},
                                   {"name": "snet-out", "properties": {"addressPrefix": "10.20.2.0/28"}},
                                   {"name": "snet-pe", "properties": {"addressPrefix": "10.20.3.0/24"}}]}}).result()
    dr = _resolver_client(c)
    res = dr.dns_resolvers.begin_create_or_update("rg", "dnspr", {
        "location": "westeurope", "virtual_network": {"id": vnet.id}}).result()
    assert res.dns_resolver_state == "Connected"
    inbound = dr.inbound_endpoints.begin_create_or_update("rg", "dnspr", "in", {
        "location": "westeurope", "ip_configurations": [{"subnet": {"id": vnet.id + "/subnets/snet-in"}}]}).result()
    ip = inbound.ip_configurations[0].private_ip_address
    assert ip == "10.20.1.4" and inbound.ip_configurations[0].private_ip_allocation_method == "Dynamic"
    out = dr.outbound_endpoints.begin_create_or_update("rg", "dnspr", "out", {
        "location": "westeurope", "subnet": {"id": vnet.id + "/subnets/snet-out"}}).result()
    rs = dr.dns_forwarding_rulesets.begin_create_or_update("rg", "rules", {
        "location": "westeurope", "dns_resolver_outbound_endpoints": [{"id": out.id}]}).result()
    dr.forwarding_rules.create_or_update("rg", "rules", "corp", {
        "domain_name": "corp.contoso.com.", "target_dns_servers": [{"ip_address": "192.0.2.53"}]})
    assert dr.forwarding_rules.get("rg", "rules", "corp").target_dns_servers[0].port == 53
    dr.virtual_network_links.begin_create_or_update("rg", "rules", "hub", {"virtual_network": {"id": vnet.id}}).result()
    assert [x.name for x in dr.virtual_network_links.list("rg", "rules")] == ["hub"]
    assert rs.dns_resolver_outbound_endpoints[0].id == out.id
    assert [e.name for e in dr.inbound_endpoints.list("rg", "dnspr")] == ["in"]

    # the live model has it as a privateResolverInbound forwarder, as one from the control API would be
    status, state = c.raw("GET", "/_arclink/state", api_version=None)
    fwd = state.get("dnsForwarders", [])
    assert [(f["kind"], f["ipAddress"]) for f in fwd] == [("privateResolverInbound", ip)]
    assert fwd[0]["virtualNetwork"].lower() == vnet.id.lower()

    # refusals: a rule without the final dot, a second endpoint in a used subnet, a PE in a delegated subnet
    with pytest.raises(HttpResponseError):
        dr.forwarding_rules.create_or_update("rg", "rules", "bad", {
            "domain_name": "corp.contoso.com", "target_dns_servers": [{"ip_address": "192.0.2.53"}]})
    with pytest.raises(HttpResponseError):
        dr.inbound_endpoints.begin_create_or_update("rg", "dnspr", "in2", {
            "location": "westeurope", "ip_configurations": [{"subnet": {"id": vnet.id + "/subnets/snet-in"}}]}).result()
    scope = flow.scope(c, "rg", "pls")
    with pytest.raises(HttpResponseError) as err:
        flow.endpoint(c, "rg", "pe", vnet.id + "/subnets/snet-in", scope.id)
    assert err.value.error.code == "PrivateEndpointCreationNotAllowedAsSubnetIsDelegated"
    with pytest.raises(HttpResponseError):
        dr.dns_forwarding_rulesets.begin_create_or_update("rg", "rules2", {
            "location": "westeurope", "dns_resolver_outbound_endpoints": [{"id": out.id + "x"}]}).result()

    dr.inbound_endpoints.begin_delete("rg", "dnspr", "in").result()
    assert c.raw("GET", "/_arclink/state", api_version=None)[1].get("dnsForwarders", []) == []


def test_peerings_child_and_inline(clients):
    c = clients
    flow.start(c)
    a = flow.vnet(c, "rg", "vnet-a", "10.1.0.0/16", "10.1.1.0/24")
    b = flow.vnet(c, "rg", "vnet-b", "10.2.0.0/16", "10.2.1.0/24")
    p = c.network.virtual_network_peerings.begin_create_or_update("rg", "vnet-a", "a-to-b", {
        "properties": {"remoteVirtualNetwork": {"id": b.id}, "allowGatewayTransit": True}}).result()
    assert p.peering_state == "Initiated" and p.allow_gateway_transit and p.use_remote_gateways is False
    # the other side written inline in its VNet body: a child resource, and both sides Connected
    from azure.mgmt.network.models import SubResource, VirtualNetworkPeering

    body = c.network.virtual_networks.get("rg", "vnet-b")
    body.virtual_network_peerings = [VirtualNetworkPeering(name="b-to-a", remote_virtual_network=SubResource(id=a.id))]
    c.network.virtual_networks.begin_create_or_update("rg", "vnet-b", body).result()
    back = c.network.virtual_network_peerings.get("rg", "vnet-b", "b-to-a")
    assert back.peering_state == "Connected"
    assert c.network.virtual_network_peerings.get("rg", "vnet-a", "a-to-b").peering_state == "Connected"
    assert [x.name for x in c.network.virtual_network_peerings.list("rg", "vnet-b")] == ["b-to-a"]
    assert [x.peering_state for x in c.network.virtual_networks.get("rg", "vnet-a").virtual_network_peerings] \
        == ["Connected"]
    with pytest.raises(HttpResponseError) as err:  # no gateway to use on the other side
        c.network.virtual_network_peerings.begin_create_or_update("rg", "vnet-a", "a-to-b", {
            "properties": {"remoteVirtualNetwork": {"id": b.id}, "useRemoteGateways": True}}).result()
    assert err.value.error.code == "RemoteVnetHasNoGateways"
    c.network.virtual_network_peerings.begin_delete("rg", "vnet-b", "b-to-a").result()
    assert c.network.virtual_network_peerings.get("rg", "vnet-a", "a-to-b").peering_state == "Disconnected"
    assert list(c.network.virtual_network_peerings.list("rg", "vnet-b")) == []


def test_use_remote_gateways_once_and_only_without_a_gateway(clients):
    """The API: "Only one peering can have this flag set to true. This flag cannot be set if virtual
    network already has a gateway." (The emulator's codes for both; Azure's are not documented.)"""
    c = clients
    flow.start(c)

    def vnet_with_gateway(name, space, gw):
        return c.network.virtual_networks.begin_create_or_update("rg", name, {
            "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": [space]},
                                                     "subnets": [{"name": "GatewaySubnet",
                                                                  "properties": {"addressPrefix": gw}}]}}).result()

    hub1 = vnet_with_gateway("hub1", "10.1.0.0/16", "10.1.0.0/27")
    hub2 = vnet_with_gateway("hub2", "10.2.0.0/16", "10.2.0.0/27")
    flow.vnet(c, "rg", "spoke", "10.3.0.0/16", "10.3.1.0/24")

    def peer(vnet, name, remote, use):
        return c.network.virtual_network_peerings.begin_create_or_update("rg", vnet, name, {
            "properties": {"remoteVirtualNetwork": {"id": remote.id}, "useRemoteGateways": use}}).result()

    assert peer("spoke", "to-hub1", hub1, True).use_remote_gateways is True
    peer("spoke", "to-hub2", hub2, False)
    with pytest.raises(HttpResponseError) as err:
        peer("spoke", "to-hub2", hub2, True)
    assert err.value.error.code == "OnlyOnePeeringCanUseRemoteGateways" and "to-hub1" in err.value.error.message
    assert peer("spoke", "to-hub1", hub1, True).use_remote_gateways is True  # rewriting the one that has it
    with pytest.raises(HttpResponseError) as err:
        peer("hub1", "to-hub2", hub2, True)
    assert err.value.error.code == "VirtualNetworkHasGatewayCannotUseRemoteGateways"
    assert c.network.virtual_network_peerings.get("rg", "spoke", "to-hub2").use_remote_gateways is False


def test_not_found_keeps_the_type_casing(clients):
    c = clients
    flow.start(c)
    base = f"/subscriptions/{c.sub}/resourceGroups/rg/providers"
    for path, api, rtype in ((f"{base}/microsoft.network/privateendpoints/x", "2024-05-01",
                              "Microsoft.Network/privateEndpoints"),
                             (f"{base}/MICROSOFT.HYBRIDCOMPUTE/PRIVATELINKSCOPES/x", "2025-01-13",
                              "Microsoft.HybridCompute/privateLinkScopes"),
                             (f"{base}/Microsoft.Network/networkInterfaces/x", "2024-05-01",
                              "Microsoft.Network/networkInterfaces")):
        status, body = c.raw("GET", path, api_version=api)
        assert status == 404 and body["error"]["code"] == "ResourceNotFound"
        assert body["error"]["message"].startswith(f"The Resource '{rtype}/x' under resource group 'rg' was not found.")
