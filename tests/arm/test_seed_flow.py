"""The seed's steps in order, driven only through the azure-mgmt-* SDKs."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from . import arm_fixtures


def _props(model):
    """Network SDK models put fields under .properties; older ones flatten them."""
    return getattr(model, "properties", None) or model


def test_seed_steps_in_order(clients):
    c = clients
    # Until the providers are registered, writes are refused.
    # (The SDK's own policy would register the provider by itself, so ask without it.)
    c.resources.resource_groups.create_or_update("rg-arc", {"location": "westeurope"})
    status, body = c.raw("PUT", f"/subscriptions/{c.sub}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/"
                                "privateLinkScopes/pls-arc", {"location": "westeurope"})
    assert status == 409 and body["error"]["code"] == "MissingSubscriptionRegistration"
    assert body["error"]["details"][0]["target"] == "Microsoft.HybridCompute"
    c.register_all()
    assert c.resources.providers.get("Microsoft.HybridCompute").registration_state == "Registered"

    # A resource group must exist.
    with pytest.raises(HttpResponseError) as exc:
        arm_fixtures.scope(c, "rg-missing", "pls-arc")
    assert exc.value.status_code == 404 and exc.value.error.code == "ResourceGroupNotFound"

    vnet = arm_fixtures.vnet(c, "rg-arc", "vnet-hub")
    scope = arm_fixtures.scope(c, "rg-arc", "pls-arc")
    assert scope.properties.public_network_access == "Disabled"
    guid = scope.properties.private_link_scope_id
    assert len(guid) == 36

    pe = arm_fixtures.endpoint(c, "rg-arc", "pe-arc", vnet.id + "/subnets/snet-pe", scope.id)
    p = _props(pe)
    conn = p.private_link_service_connections[0]
    state = getattr(conn, "properties", conn).private_link_service_connection_state
    assert state.status == "Approved"
    configs = {d.fqdn if hasattr(d, "fqdn") else d["fqdn"]: (d.ip_addresses if hasattr(d, "ip_addresses") else d["ipAddresses"])
               for d in p.custom_dns_configs}
    assert {"gbl.his.arc.azure.com", "agentserviceapi.guestconfiguration.azure.com",
            "dp.kubernetesconfiguration.azure.com", "westeurope.dp.kubernetesconfiguration.azure.com"} <= set(configs)
    assert all(ip[0].startswith("10.10.1.") for ip in configs.values())
    assert len({ip[0] for ip in configs.values()}) == len(configs)  # one address per FQDN

    # The scope shows the auto-approved connection.
    scope = c.hybridcompute.private_link_scopes.get("rg-arc", "pls-arc")
    pecs = scope.properties.private_endpoint_connections
    assert len(pecs) == 1 and pecs[0].properties.private_link_service_connection_state.status == "Approved"

    zone_ids = arm_fixtures.zones(c, "rg-arc", vnet.id)
    arm_fixtures.zone_group(c, "rg-arc", "pe-arc", zone_ids)
    records = {r.name: r for r in c.dns.record_sets.list("rg-arc", "privatelink.his.arc.azure.com")}
    assert "gbl" in records
    assert records["gbl"].a_records[0].ipv4_address == configs["gbl.his.arc.azure.com"][0]
    dp = {r.name for r in c.dns.record_sets.list("rg-arc", "privatelink.dp.kubernetesconfiguration.azure.com")}
    assert {"@", "westeurope"} <= dp

    cl = arm_fixtures.cluster(c, "rg-arc", "k3s-store1", scope.id)
    assert cl.private_link_state == "Enabled"
    ext = c.config.extensions.begin_create("rg-arc", "Microsoft.Kubernetes", "connectedClusters", "k3s-store1", "flux",
                                           {"properties": {"extensionType": "microsoft.flux"}}).result()
    assert ext.extension_type == "microsoft.flux"

    # The live model follows: the DNS server and gateway see the same state.
    ix = c.svc.live.index
    assert ix.clusters["k3s-store1"].scope.name == "pls-arc"
    assert ix.zone("privatelink.his.arc.azure.com").records[("gbl", "A")].addresses == [configs["gbl.his.arc.azure.com"][0]]
    assert ix.cluster("k3s-store1").spec.extensions == ["microsoft.flux"]

    # Virtual network links decide which VNets see each zone.
    assert len(ix.vnet("vnet-hub").zone_links) == 3
    c.dns.virtual_network_links.begin_delete("rg-arc", "privatelink.his.arc.azure.com", "link-hub").result()
    assert sorted(z.zone_name for z, _ in c.svc.live.index.vnet("vnet-hub").zone_links) == [
        "privatelink.dp.kubernetesconfiguration.azure.com", "privatelink.guestconfiguration.azure.com"]

    # Validation details by the scope's GUID.
    details = c.hybridcompute.private_link_scopes.get_validation_details("westeurope", guid)
    assert details.id.lower() == scope.id.lower() and details.public_network_access == "Disabled"
    assert any(d.private_ip_address == configs["gbl.his.arc.azure.com"][0] for d in details.connection_details)


def test_manual_approval_flow(clients):
    c = clients
    arm_fixtures.start(c)
    vnet = arm_fixtures.vnet(c, "rg", "vnet")
    scope = arm_fixtures.scope(c, "rg", "pls")
    arm_fixtures.endpoint(c, "rg", "pe", vnet.id + "/subnets/snet-pe", scope.id, manual=True)
    pecs = list(c.hybridcompute.private_endpoint_connections.list_by_private_link_scope("rg", "pls"))
    assert len(pecs) == 1 and pecs[0].properties.private_link_service_connection_state.status == "Pending"
    assert c.svc.live.index.endpoints["pe"].state == "Pending"
    pec = c.hybridcompute.private_endpoint_connections.begin_create_or_update("rg", "pls", pecs[0].name, {
        "properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok by ops"}}}).result()
    assert pec.properties.private_link_service_connection_state.status == "Approved"
    pe = c.network.private_endpoints.get("rg", "pe")
    conn = _props(pe).manual_private_link_service_connections[0]
    assert getattr(conn, "properties", conn).private_link_service_connection_state.status == "Approved"
    assert c.svc.live.index.endpoints["pe"].state == "Approved"
    c.hybridcompute.private_endpoint_connections.begin_create_or_update("rg", "pls", pecs[0].name, {
        "properties": {"privateLinkServiceConnectionState": {"status": "Rejected", "description": "no"}}}).result()
    assert c.svc.live.index.endpoints["pe"].state == "Rejected"


def test_delete_then_404_and_case_insensitive(clients):
    c = clients
    c.register_all()
    c.resources.resource_groups.create_or_update("RG-Mixed", {"location": "westeurope"})
    arm_fixtures.scope(c, "RG-Mixed", "PLS-Mixed")
    got = c.hybridcompute.private_link_scopes.get("rg-mixed", "pls-mixed")
    assert got.name == "PLS-Mixed"
    c.hybridcompute.private_link_scopes.begin_delete("rg-mixed", "pls-MIXED").result()
    with pytest.raises(ResourceNotFoundError) as exc:
        c.hybridcompute.private_link_scopes.get("RG-Mixed", "PLS-Mixed")
    assert exc.value.error.code == "ResourceNotFound"
    c.resources.resource_groups.begin_delete("rg-mixed").result()
    assert not c.resources.resource_groups.check_existence("RG-Mixed")


def test_list_paging(clients):
    c = clients
    arm_fixtures.start(c)
    for i in range(230):
        arm_fixtures.scope(c, "rg", f"pls-{i:03d}")
    names = [s.name for s in c.hybridcompute.private_link_scopes.list_by_resource_group("rg")]
    assert len(names) == 230 and len(set(names)) == 230
    assert len(list(c.hybridcompute.private_link_scopes.list())) == 230


def test_patch_cannot_change_private_link(clients):
    c = clients
    arm_fixtures.start(c)
    scope = arm_fixtures.scope(c, "rg", "pls")
    arm_fixtures.cluster(c, "rg", "k1", scope.id)
    updated = c.k8s.connected_cluster.begin_update_async("rg", "k1", {"tags": {"env": "prod"},
                                                                       "properties": {"distribution": "k3s"}}).result()
    assert updated.tags == {"env": "prod"} and updated.private_link_state == "Enabled"
    status, body = c.raw("PATCH", f"/subscriptions/{c.sub}/resourceGroups/rg/providers/Microsoft.Kubernetes/"
                                  "connectedClusters/k1", {"properties": {"privateLinkState": "Disabled"}},
                         api_version="2026-05-01")
    assert status == 400 and body["error"]["code"] == "PropertyChangeNotAllowed"


def test_etag_if_match(clients):
    c = clients
    arm_fixtures.start(c)
    z = c.dns.private_zones.begin_create_or_update("rg", "example.internal", {"location": "global"}).result()
    path = f"/subscriptions/{c.sub}/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/example.internal"
    status, body = c.raw("PUT", path, {"location": "global"}, api_version="2024-06-01", headers={"If-Match": '"stale"'})
    assert status == 412 and body["error"]["code"] == "PreconditionFailed"
    status, body = c.raw("PUT", path, {"location": "global"}, api_version="2024-06-01", headers={"If-None-Match": "*"})
    assert status == 412
    status, body = c.raw("PUT", path, {"location": "global", "tags": {"a": "b"}}, api_version="2024-06-01",
                         headers={"If-Match": z.etag})
    assert status == 200 and body["etag"] != z.etag


def test_get_modify_put_round_trips(clients):
    """Automation often GETs a resource, changes it and PUTs the model back: that must work."""
    c = clients
    arm_fixtures.start(c)
    vnet = arm_fixtures.vnet(c, "rg", "vnet")
    scope = arm_fixtures.scope(c, "rg", "pls")
    arm_fixtures.endpoint(c, "rg", "pe", vnet.id + "/subnets/snet-pe", scope.id)
    arm_fixtures.cluster(c, "rg", "k1", scope.id)

    s = c.hybridcompute.private_link_scopes.get("rg", "pls")
    s.tags = {"owner": "ops"}
    assert c.hybridcompute.private_link_scopes.create_or_update("rg", "pls", s).tags == {"owner": "ops"}

    pe = c.network.private_endpoints.get("rg", "pe")
    pe.tags = {"owner": "ops"}
    again = c.network.private_endpoints.begin_create_or_update("rg", "pe", pe).result()
    assert again.tags == {"owner": "ops"}
    before = {d["fqdn"] if isinstance(d, dict) else d.fqdn for d in _props(pe).custom_dns_configs}
    after = _props(again).custom_dns_configs
    assert {d["fqdn"] if isinstance(d, dict) else d.fqdn for d in after} == before  # same addresses kept

    v = c.network.virtual_networks.get("rg", "vnet")
    v.tags = {"owner": "ops"}
    assert c.network.virtual_networks.begin_create_or_update("rg", "vnet", v).result().tags == {"owner": "ops"}

    k = c.k8s.connected_cluster.get("rg", "k1")
    k.tags = {"owner": "ops"}
    assert c.k8s.connected_cluster.begin_create_or_replace("rg", "k1", k).result().tags == {"owner": "ops"}
    assert c.svc.live.index.cluster("k1").scope.name == "pls"
