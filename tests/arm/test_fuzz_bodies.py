"""Every value of valid request bodies replaced by every wrong JSON type: never a 5xx.

Drives the ASGI app in process (no sockets) so thousands of requests stay quick.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from arclink.arm.app import ArmConfig, create_app
from arclink.arm.live import StoreLiveState
from arclink.arm.store import Store

from .arm_fixtures import asgi_call, json_paths, json_replace

SUB = "11111111-2222-3333-4444-555555555555"
TOKEN = "t"
WRONG = (None, 5, -1, 1.5, "x", "", True, [], [1], {}, {"a": 1}, "/subscriptions/x")


class Driver:
    def __init__(self):
        self.store = Store(None)
        self.live = StoreLiveState(self.store)
        self.app = create_app(self.store, self.live, ArmConfig(token=TOKEN, subscription=SUB, tenant=SUB))
        self.loop = asyncio.new_event_loop()

    def call(self, method: str, path: str, body=None, version: str = "") -> tuple[int, dict | None]:
        raw = json.dumps(body).encode() if body is not None else b""
        path, _, query = path.partition("?")
        if version:
            query = f"api-version={version}"
        status, _, payload = asgi_call(self.loop, self.app, method, path, raw, query, [
            (b"authorization", f"Bearer {TOKEN}".encode()), (b"content-length", str(len(raw)).encode())])
        return status, (json.loads(payload) if payload else None)

    def close(self):
        self.live.close()
        self.loop.close()


@pytest.fixture(scope="module")
def drv():
    d = Driver()
    rg = f"/subscriptions/{SUB}/resourceGroups/rg"
    for ns in ("Microsoft.HybridCompute", "Microsoft.Network", "Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration"):
        assert d.call("POST", f"/subscriptions/{SUB}/providers/{ns}/register", version="2025-04-01")[0] == 200
    assert d.call("PUT", rg, {"location": "westeurope"}, "2025-04-01")[0] == 201
    for path, body, v in setup_resources(rg):
        status, doc = d.call("PUT", path, body, v)
        assert status in (200, 201), (path, doc)
    yield d
    d.close()


def setup_resources(rg):
    net = f"{rg}/providers/Microsoft.Network"
    return [
        (f"{net}/networkSecurityGroups/nsg", {"location": "westeurope"}, "2026-03-01"),
        (f"{net}/virtualNetworks/vnet", {"location": "westeurope", "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "pe", "properties": {"addressPrefix": "10.0.1.0/24"}}]}}, "2026-03-01"),
        (f"{rg}/providers/Microsoft.HybridCompute/privateLinkScopes/pls", {"location": "westeurope"}, "2025-01-13"),
        (f"{net}/privateDnsZones/privatelink.his.arc.azure.com", {"location": "global"}, "2024-06-01"),
        (f"{rg}/providers/Microsoft.Kubernetes/connectedClusters/k", {
            "location": "westeurope", "identity": {"type": "SystemAssigned"},
            "properties": {"agentPublicKeyCertificate": "x"}}, "2026-05-01"),
    ]


def templates(rg):
    net = f"{rg}/providers/Microsoft.Network"
    pls = f"{rg}/providers/Microsoft.HybridCompute/privateLinkScopes/pls"
    vnet = f"{net}/virtualNetworks/vnet"
    zone = f"{net}/privateDnsZones/privatelink.his.arc.azure.com"
    cluster = f"{rg}/providers/Microsoft.Kubernetes/connectedClusters/k"
    return [
        (f"{pls}-2", "2025-01-13", {"location": "westeurope", "tags": {"a": "b"},
                                    "properties": {"publicNetworkAccess": "Enabled"}}),
        (f"{net}/virtualNetworks/v2", "2026-03-01", {
            "location": "westeurope", "properties": {
                "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}, "dhcpOptions": {"dnsServers": ["10.1.0.4"]},
                "subnets": [{"name": "s", "properties": {"addressPrefix": "10.1.1.0/24",
                                                         "networkSecurityGroup": {"id": f"{net}/networkSecurityGroups/nsg"},
                                                         "privateEndpointNetworkPolicies": "Enabled"}}]}}),
        (f"{vnet}/subnets/s2", "2026-03-01", {"properties": {"addressPrefix": "10.0.2.0/24"}}),
        (f"{vnet}/virtualNetworkPeerings/p", "2026-03-01", {"properties": {
            "remoteVirtualNetwork": {"id": f"{net}/virtualNetworks/v2"}, "allowVirtualNetworkAccess": True}}),
        (f"{net}/networkSecurityGroups/nsg/securityRules/r", "2026-03-01", {"properties": {
            "priority": 300, "protocol": "Tcp", "access": "Allow", "direction": "Outbound",
            "destinationAddressPrefixes": ["AzureActiveDirectory"], "destinationPortRange": "443"}}),
        (f"{net}/networkSecurityGroups/n2", "2026-03-01", {"location": "westeurope", "properties": {"securityRules": [
            {"name": "r", "properties": {"priority": 150, "protocol": "Tcp", "access": "Allow", "direction": "Outbound",
                                         "destinationAddressPrefix": "AzureActiveDirectory", "destinationPortRange": "443"}}]}}),
        (f"{net}/privateEndpoints/pe", "2026-03-01", {"location": "westeurope", "properties": {
            "subnet": {"id": f"{vnet}/subnets/pe"},
            "privateLinkServiceConnections": [{"name": "c", "properties": {"privateLinkServiceId": pls,
                                                                           "groupIds": ["hybridcompute"],
                                                                           "requestMessage": "hi"}}]}}),
        (f"{net}/privateEndpoints/pe/privateDnsZoneGroups/g", "2026-03-01", {"properties": {"privateDnsZoneConfigs": [
            {"name": "c", "properties": {"privateDnsZoneId": zone}}]}}),
        (f"{zone}/virtualNetworkLinks/l", "2024-06-01", {"location": "global", "properties": {
            "virtualNetwork": {"id": vnet}, "registrationEnabled": False, "resolutionPolicy": "Default"}}),
        (f"{zone}/A/www", "2024-06-01", {"properties": {"ttl": 60, "metadata": {"k": "v"},
                                                         "aRecords": [{"ipv4Address": "10.0.1.4"}]}}),
        (f"{zone}/CNAME/alias", "2024-06-01", {"properties": {"ttl": 60, "cnameRecord": {"cname": "www"}}}),
        (f"{rg}/providers/Microsoft.Kubernetes/connectedClusters/k2", "2026-05-01", {
            "location": "westeurope", "tags": {}, "identity": {"type": "SystemAssigned"}, "kind": "ProvisionedCluster",
            "properties": {"agentPublicKeyCertificate": "x", "privateLinkState": "Enabled",
                           "privateLinkScopeResourceId": pls, "distribution": "k3s",
                           "arcAgentryConfigurations": [{"feature": "logging", "settings": {"a": "b"}}],
                           "aadProfile": {"enableAzureRBAC": True}}}),
        (f"{cluster}/providers/Microsoft.KubernetesConfiguration/extensions/flux", "2023-05-01", {
            "properties": {"extensionType": "microsoft.flux", "autoUpgradeMinorVersion": True,
                           "releaseTrain": "Stable", "scope": {"cluster": {"releaseNamespace": "flux-system"}},
                           "configurationSettings": {"a": "b"}, "configurationProtectedSettings": {"s": "t"}}}),
        (f"{pls}/privateEndpointConnections/x", "2025-01-13", {"properties": {
            "privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}}),
    ]


def test_no_server_error_for_any_wrong_type(drv):
    rg = f"/subscriptions/{SUB}/resourceGroups/rg"
    failures = []
    sent = 0
    for path, version, body in templates(rg):
        # a valid PUT first (so later templates find their parents), then every variant as an update
        # of it and as a create under a fresh name
        status, doc = drv.call("PUT", path, body, version)
        assert status < 300 or path.endswith("/x"), (path, doc)
        for target in (path, path + "new"):
            for p in json_paths(body):
                for wrong in WRONG:
                    status, doc = drv.call("PUT", target, json_replace(body, p, wrong), version)
                    sent += 1
                    if status >= 500 or (status >= 400 and not (doc or {}).get("error", {}).get("code")):
                        failures.append(f"PUT {target.rsplit('/', 2)[-2:]} {'.'.join(map(str, p)) or '<body>'}"
                                        f"={wrong!r}: {status} {doc}")
        for patch in ({"tags": 5, "properties": 5}, {"properties": {"privateLinkState": 5}}, {"tags": {"a": 1}}):
            status, doc = drv.call("PATCH", path, patch, version)
            if status >= 500:
                failures.append(f"PATCH {path}: {status} {doc}")
        # the live model still builds after all that
        drv.live.refresh()
        assert drv.live._built == drv.store.generation
    print("sent", sent, "failures", len(failures))
    assert sent > 500
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures[:40])


def test_plain_live_state_gets_published_indexes():
    from arclink.model.arm_codec import index_from_resources
    from arclink.model.live import LiveState

    store = Store(None)
    live = LiveState(index_from_resources([], {}))
    d = Driver.__new__(Driver)
    d.store, d.live = store, live
    d.app = create_app(store, live, ArmConfig(token=TOKEN, subscription=SUB, tenant=SUB))
    d.loop = asyncio.new_event_loop()
    try:
        d.call("POST", f"/subscriptions/{SUB}/providers/Microsoft.HybridCompute/register", version="2025-04-01")
        d.call("PUT", f"/subscriptions/{SUB}/resourceGroups/rg", {"location": "westeurope"}, "2025-04-01")
        status, _ = d.call("PUT", f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/"
                                  "privateLinkScopes/pls", {"location": "westeurope"}, "2025-01-13")
        assert status == 201 and "pls" in live.index.scopes and live.version >= 3
    finally:
        d.loop.close()
