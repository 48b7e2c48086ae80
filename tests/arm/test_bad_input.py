"""A corpus of bad requests: each gets an ARM-shaped 4xx with a code, never a 5xx."""

from __future__ import annotations

import pytest

from . import arm_fixtures


@pytest.fixture
def ready(clients):
    c = clients
    arm_fixtures.start(c)
    vnet = arm_fixtures.vnet(c, "rg", "vnet")
    scope = arm_fixtures.scope(c, "rg", "pls")
    arm_fixtures.cluster(c, "rg", "k1", scope.id)
    c.dns.private_zones.begin_create_or_update("rg", "zone.example", {"location": "global"}).result()
    return c, vnet, scope


def corpus(sub):
    rg = f"/subscriptions/{sub}/resourceGroups/rg"
    pls = f"{rg}/providers/Microsoft.HybridCompute/privateLinkScopes"
    pe = f"{rg}/providers/Microsoft.Network/privateEndpoints"
    cc = f"{rg}/providers/Microsoft.Kubernetes/connectedClusters"
    zones = f"{rg}/providers/Microsoft.Network/privateDnsZones"
    vnets = f"{rg}/providers/Microsoft.Network/virtualNetworks"
    hv, kv, nv, dv = "2025-01-13", "2026-05-01", "2026-03-01", "2024-06-01"
    big = b'{"location": "westeurope", "tags": {"x": "' + b"a" * (4 * 1024 * 1024 + 10) + b'"}}'
    return [
        # (name, method, path, api-version, raw body, expected status, expected code or None)
        ("malformed json", "PUT", f"{pls}/a", hv, b'{"location": ', 400, "InvalidRequestContent"),
        ("array body", "PUT", f"{pls}/a", hv, b'["westeurope"]', 400, "InvalidRequestContent"),
        ("string body", "PUT", f"{pls}/a", hv, b'"x"', 400, "InvalidRequestContent"),
        ("empty body", "PUT", f"{pls}/a", hv, b"", 400, "InvalidRequestContent"),
        ("not utf-8", "PUT", f"{pls}/a", hv, b'{"location": "\xff\xfe"}', 400, "InvalidRequestContent"),
        ("null body", "PUT", f"{pls}/a", hv, b"null", 400, "InvalidRequestContent"),
        ("location wrong type", "PUT", f"{pls}/a", hv, b'{"location": 5}', 400, "InvalidRequestContent"),
        ("no location", "PUT", f"{pls}/a", hv, b'{}', 400, "LocationRequired"),
        ("tags wrong type", "PUT", f"{pls}/a", hv, b'{"location": "westeurope", "tags": [1]}', 400, "InvalidRequestContent"),
        ("properties wrong type", "PUT", f"{pls}/a", hv, b'{"location": "westeurope", "properties": 3}', 400, None),
        ("enum outside spec", "PUT", f"{pls}/a", hv,
         b'{"location": "westeurope", "properties": {"publicNetworkAccess": "Sometimes"}}', 400, "InvalidParameter"),
        ("enum wrong type", "PUT", f"{pls}/a", hv,
         b'{"location": "westeurope", "properties": {"publicNetworkAccess": true}}', 400, "InvalidRequestContent"),
        ("read-only guid", "PUT", f"{pls}/a", hv,
         b'{"location": "westeurope", "properties": {"privateLinkScopeId": "11111111-1111-1111-1111-111111111111"}}',
         400, "InvalidRequestContent"),
        ("read-only provisioningState", "PUT", f"{pls}/a", hv,
         b'{"location": "westeurope", "properties": {"provisioningState": "Failed"}}', 400, "InvalidRequestContent"),
        ("read-only cluster field", "PUT", f"{cc}/k2", kv,
         b'{"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": '
         b'{"agentPublicKeyCertificate": "x", "totalNodeCount": 3}}', 400, "InvalidRequestContent"),
        ("cluster enum", "PUT", f"{cc}/k2", kv,
         b'{"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": '
         b'{"agentPublicKeyCertificate": "x", "privateLinkState": "On"}}', 400, "InvalidParameter"),
        ("cluster missing key", "PUT", f"{cc}/k2", kv,
         b'{"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {}}', 400, None),
        ("name outside pattern", "PUT", f"{pls}/bad name!", hv, b'{"location": "westeurope"}', 400, "InvalidResourceName"),
        ("name too long", "PUT", f"{pls}/{'a' * 100}", hv, b'{"location": "westeurope"}', 400, "InvalidResourceName"),
        ("cluster name pattern", "PUT", f"{cc}/-k", kv,
         b'{"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": '
         b'{"agentPublicKeyCertificate": "x"}}', 400, "InvalidResourceName"),
        ("zone single label", "PUT", f"{zones}/localhost", dv, b'{"location": "global"}', 400, "InvalidResourceName"),
        ("A record not IPv4", "PUT", f"{zones}/zone.example/A/gbl", dv,
         b'{"properties": {"ttl": 10, "aRecords": [{"ipv4Address": "::1"}]}}', 400, "InvalidRequestContent"),
        ("AAAA record not IPv6", "PUT", f"{zones}/zone.example/AAAA/gbl", dv,
         b'{"properties": {"ttl": 10, "aaaaRecords": [{"ipv6Address": "10.0.0.1"}]}}', 400, "InvalidRequestContent"),
        ("zone location", "PUT", f"{zones}/a.example", dv, b'{"location": "westeurope"}', 400, "InvalidLocation"),
        ("rg name", "PUT", f"/subscriptions/{sub}/resourceGroups/badname.", "2025-04-01", b'{"location": "westeurope"}',
         400, None),
        ("bad cidr", "PUT", f"{vnets}/v2", nv,
         b'{"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.1/16"]}}}',
         400, "InvalidAddressPrefixFormat"),
        ("subnet outside vnet", "PUT", f"{vnets}/v2", nv,
         b'{"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, '
         b'"subnets": [{"name": "s", "properties": {"addressPrefix": "10.1.0.0/24"}}]}}', 400, "NetcfgSubnetRangeOutsideVnet"),
        ("pe id wrong provider", "PUT", f"{pe}/pe2", nv,
         b'{"location": "westeurope", "properties": {"subnet": {"id": "' + f"{vnets}/vnet/subnets/snet-pe".encode() +
         b'"}, "privateLinkServiceConnections": [{"name": "c", "properties": {"privateLinkServiceId": "' +
         f"{rg}/providers/Microsoft.Storage/privateLinkScopes/pls".encode() + b'", "groupIds": ["hybridcompute"]}}]}}',
         400, None),
        ("pe target is a vnet", "PUT", f"{pe}/pe2", nv,
         b'{"location": "westeurope", "properties": {"subnet": {"id": "' + f"{vnets}/vnet/subnets/snet-pe".encode() +
         b'"}, "privateLinkServiceConnections": [{"name": "c", "properties": {"privateLinkServiceId": "' +
         f"{vnets}/vnet".encode() + b'", "groupIds": ["blob"]}}]}}', 400, "InvalidPrivateLinkServiceId"),
        ("pe subnet not an id", "PUT", f"{pe}/pe2", nv,
         b'{"location": "westeurope", "properties": {"subnet": {"id": "snet"}, "privateLinkServiceConnections": '
         b'[{"name": "c", "properties": {"privateLinkServiceId": "x", "groupIds": ["hybridcompute"]}}]}}', 400, None),
        ("pe no connection", "PUT", f"{pe}/pe2", nv,
         b'{"location": "westeurope", "properties": {"subnet": {"id": "' + f"{vnets}/vnet/subnets/snet-pe".encode() + b'"}}}',
         400, "InvalidPrivateEndpoint"),
        ("cluster scope id wrong provider", "PUT", f"{cc}/k3", kv,
         b'{"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {"agentPublicKeyCertificate": "x",'
         b' "privateLinkState": "Enabled", "privateLinkScopeResourceId": "' +
         f"{rg}/providers/Microsoft.Insights/privateLinkScopes/pls".encode() + b'"}}', 400, "LinkedInvalidPropertyId"),
        ("nsg bad priority", "PUT", f"{rg}/providers/Microsoft.Network/networkSecurityGroups/n", nv,
         b'{"location": "westeurope", "properties": {"securityRules": [{"name": "r", "properties": {"priority": 50, '
         b'"protocol": "Tcp", "access": "Allow", "direction": "Outbound"}}]}}', 400, "SecurityRuleInvalidPriority"),
        ("nsg bad enum", "PUT", f"{rg}/providers/Microsoft.Network/networkSecurityGroups/n", nv,
         b'{"location": "westeurope", "properties": {"securityRules": [{"name": "r", "properties": {"priority": 150, '
         b'"protocol": "Tcpx", "access": "Allow", "direction": "Outbound"}}]}}', 400, None),
        ("nsg bad port range", "PUT", f"{rg}/providers/Microsoft.Network/networkSecurityGroups/n", nv,
         b'{"location": "westeurope", "properties": {"securityRules": [{"name": "r", "properties": {"priority": 150, '
         b'"protocol": "Tcp", "access": "Allow", "direction": "Outbound", "destinationPortRange": "80-abc"}}]}}',
         400, "SecurityRuleInvalidPortRange"),
        ("nsg port out of range", "PUT", f"{rg}/providers/Microsoft.Network/networkSecurityGroups/n", nv,
         b'{"location": "westeurope", "properties": {"securityRules": [{"name": "r", "properties": {"priority": 150, '
         b'"protocol": "Tcp", "access": "Allow", "direction": "Outbound", "destinationPortRanges": ["443", "70000"]}}]}}',
         400, "SecurityRuleInvalidPortRange"),
        ("body over 4 MB", "PUT", f"{pls}/big", hv, big, 413, "RequestEntityTooLarge"),
        ("unknown route", "GET", "/nothing/here", hv, None, 404, None),
        ("unknown provider", "GET", f"{rg}/providers/Contoso.Widgets/widgets/w", hv, None, 404, "InvalidResourceNamespace"),
        ("unknown type", "GET", f"{rg}/providers/Microsoft.Network/widgets/w", nv, None, 404, "InvalidResourceType"),
        ("register unknown namespace", "POST", f"/subscriptions/{sub}/providers/Contoso.Widgets/register", "2025-04-01",
         None, 404, "InvalidResourceNamespace"),
        ("bad subscription", "GET", "/subscriptions/not-a-guid/resourcegroups", "2025-04-01", None, 400,
         "InvalidSubscriptionId"),
        ("method not allowed", "POST", f"{pls}/pls", hv, b"{}", 405, None),
        ("patch pec", "PATCH", f"{pls}/pls/privateEndpointConnections/x", hv, b"{}", 405, None),
        ("bad $top", "GET", pls, hv, None, 400, None),
        ("approve missing pec", "PUT", f"{pls}/pls/privateEndpointConnections/nope", hv,
         b'{"properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}', 404, None),
        ("pec bad status", "PUT", f"{pls}/pls/privateEndpointConnections/nope", hv,
         b'{"properties": {"privateLinkServiceConnectionState": {"status": "Maybe"}}}', 400, None),
        ("extension on missing cluster", "PUT",
         f"{cc}/nope/providers/Microsoft.KubernetesConfiguration/extensions/flux", "2023-05-01",
         b'{"properties": {"extensionType": "microsoft.flux"}}', 404, "ParentResourceNotFound"),
        ("extension settings wrong type", "PUT",
         f"{cc}/k1/providers/Microsoft.KubernetesConfiguration/extensions/flux", "2023-05-01",
         b'{"properties": {"extensionType": "microsoft.flux", "configurationSettings": {"a": 1}}}', 400, None),
        ("record in missing zone", "PUT", f"{zones}/nozone.example/A/www", dv, b'{"properties": {"ttl": 5}}',
         404, "ParentResourceNotFound"),
        ("record bad ip", "PUT", f"{zones}/zone.example/A/www", dv, b'{"properties": {"aRecords": [{"ipv4Address": "x"}]}}',
         400, "InvalidRequestContent"),
        ("ttl wrong type", "PUT", f"{zones}/zone.example/A/www", dv, b'{"properties": {"ttl": "long"}}', 400, None),
        ("get missing in missing rg", "GET", f"/subscriptions/{sub}/resourceGroups/nope/providers/Microsoft.HybridCompute/"
                                             "privateLinkScopes/x", hv, None, 404, "ResourceGroupNotFound"),
    ]


def test_bad_input_corpus(ready):
    c, vnet, scope = ready
    failures = []
    for name, method, path, version, body, status, code in corpus(c.sub):
        q = "?$top=abc" if name == "bad $top" else ""
        got, doc = c.raw(method, path + q, api_version=version, data=body)
        if got >= 500:
            failures.append(f"{name}: {got} (a server error)")
            continue
        if got != status:
            failures.append(f"{name}: status {got}, wanted {status}: {doc}")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("error"), dict) or not doc["error"].get("code") \
                or not doc["error"].get("message"):
            failures.append(f"{name}: not an ARM error body: {doc!r}")
            continue
        if code and doc["error"]["code"] != code:
            failures.append(f"{name}: code {doc['error']['code']}, wanted {code}")
        elif name.endswith(("not IPv4", "not IPv6")) and name.split()[-1] + " address" not in doc["error"]["message"]:
            failures.append(f"{name}: the message does not name the address family: {doc['error']['message']}")
    assert not failures, "\n".join(failures)
    # and nothing bad was stored
    names = [s.name for s in c.hybridcompute.private_link_scopes.list_by_resource_group("rg")]
    assert names == ["pls"]
