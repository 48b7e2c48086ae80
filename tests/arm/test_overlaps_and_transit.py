"""Overlapping subnets and peered address spaces refused with Azure's codes; peerings' gateway-transit
flags carried into the live model, so the emulator routes as lint on the file does."""

from __future__ import annotations

from pathlib import Path

from tests.arm.arm_fixtures import start, vnet

from arclink.model import rules
from arclink.model.loader import load

ROOT = Path(__file__).resolve().parents[2]
NET = "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/{name}"


def _put(c, path, body):
    return c.raw("PUT", path.format(sub=c.sub), body, api_version="2024-05-01")


def test_subnet_put_overlapping_a_sibling_is_refused(clients):
    c = clients
    start(c)
    vnet(c, "rg", "hub", prefix="10.10.0.0/16", subnet="10.10.1.0/24")
    status, body = _put(c, NET.format(sub="{sub}", name="hub") + "/subnets/snet-x",
                        {"properties": {"addressPrefix": "10.10.1.128/25"}})
    assert status == 400 and body["error"]["code"] == "NetcfgSubnetRangesOverlap", body
    assert "'snet-pe'" in body["error"]["message"]
    # the same subnet written again with its own range is no overlap with itself
    status, _ = _put(c, NET.format(sub="{sub}", name="hub") + "/subnets/snet-pe",
                     {"properties": {"addressPrefix": "10.10.1.0/24"}})
    assert status in (200, 201)
    status, _ = _put(c, NET.format(sub="{sub}", name="hub") + "/subnets/snet-x",
                     {"properties": {"addressPrefix": "10.10.2.0/24"}})
    assert status in (200, 201)


def test_vnet_put_with_overlapping_inline_subnets_is_refused(clients):
    c = clients
    start(c)
    status, body = _put(c, NET.format(sub="{sub}", name="hub"), {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}, "subnets": [
            {"name": "a", "properties": {"addressPrefix": "10.10.0.0/23"}},
            {"name": "b", "properties": {"addressPrefix": "10.10.1.0/24"}}]}})
    assert status == 400 and body["error"]["code"] == "NetcfgSubnetRangesOverlap", body
    assert body["error"]["target"] == "properties.subnets[1].properties.addressPrefix"
    assert c.raw("GET", NET.format(sub=c.sub, name="hub"), api_version="2024-05-01")[0] == 404


def test_peering_overlapping_spaces_is_refused(clients):
    c = clients
    start(c)
    a = vnet(c, "rg", "a", prefix="10.10.0.0/16", subnet="10.10.1.0/24")
    b = vnet(c, "rg", "b", prefix="10.10.128.0/17", subnet="10.10.129.0/24")
    status, body = _put(c, NET.format(sub="{sub}", name="a") + "/virtualNetworkPeerings/a-to-b",
                        {"properties": {"remoteVirtualNetwork": {"id": b.id}}})
    assert status == 400 and body["error"]["code"] == "VnetAddressSpacesOverlap", body
    assert "10.10.128.0/17" in body["error"]["message"]
    # inline in the VNet's body: the same refusal
    status, body = _put(c, NET.format(sub="{sub}", name="b"), {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.10.128.0/17"]}, "virtualNetworkPeerings": [
            {"name": "b-to-a", "properties": {"remoteVirtualNetwork": {"id": a.id}}}]}})
    assert status == 400 and body["error"]["code"] == "VnetAddressSpacesOverlap", body


def test_peering_overlapping_an_already_peered_vnet_is_refused(clients):
    c = clients
    start(c)
    vnet(c, "rg", "hub", prefix="10.10.0.0/16", subnet="10.10.1.0/24")
    s1 = vnet(c, "rg", "s1", prefix="10.20.0.0/16", subnet="10.20.1.0/24")
    s2 = vnet(c, "rg", "s2", prefix="10.20.0.0/24", subnet="10.20.0.0/26")
    status, _ = _put(c, NET.format(sub="{sub}", name="hub") + "/virtualNetworkPeerings/hub-to-s1",
                     {"properties": {"remoteVirtualNetwork": {"id": s1.id}}})
    assert status in (200, 201)
    status, body = _put(c, NET.format(sub="{sub}", name="hub") + "/virtualNetworkPeerings/hub-to-s2",
                        {"properties": {"remoteVirtualNetwork": {"id": s2.id}}})
    assert status == 400 and body["error"]["code"] == "VnetAddressSpaceOverlapsWithAlreadyPeeredVnet", body
    assert s1.id in body["error"]["message"] and "10.20.0.0/24" in body["error"]["message"]


def test_peering_flags_reach_the_live_model(clients):
    c = clients
    start(c)
    hub = c.network.virtual_networks.begin_create_or_update("rg", "hub", {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}, "subnets": [
            {"name": "GatewaySubnet", "properties": {"addressPrefix": "10.10.255.0/27"}}]}}).result()
    spoke = vnet(c, "rg", "spoke", prefix="10.20.0.0/16", subnet="10.20.1.0/24")
    c.network.virtual_network_peerings.begin_create_or_update("rg", "hub", "hub-to-spoke", {
        "properties": {"remoteVirtualNetwork": {"id": spoke.id}, "allowGatewayTransit": True}}).result()
    c.network.virtual_network_peerings.begin_create_or_update("rg", "spoke", "spoke-to-hub", {
        "properties": {"remoteVirtualNetwork": {"id": hub.id}, "useRemoteGateways": True}}).result()
    ix = c.svc.live.index
    h, s = ix.vnets["hub"], ix.vnets["spoke"]
    assert (h.side(s).allow_gateway_transit, h.side(s).use_remote_gateways) == (True, False)
    assert (s.side(h).allow_gateway_transit, s.side(h).use_remote_gateways) == (False, True)


def test_the_emulator_routes_as_lint_on_the_file(tmp_path):
    """APL015's missing-flag case seeded into the emulator: the same finding, the same flag named."""
    from arclink.stack import start_services

    path = ROOT / "tests" / "rules" / "cases" / "APL015" / "fail-transit.yaml"
    on_file = rules.run(load(path), only=["APL015"])
    svc = start_services(tmp_path / "state", in_memory=True, topology=path)
    try:
        live = rules.run(svc.live.index, only=["APL015"])
    finally:
        svc.stop()
    assert [f.message for f in live] == [f.message for f in on_file]
    assert len(on_file) == 1 and "does not set allowGatewayTransit" in on_file[0].message
