"""The resource types the emulator serves: one descriptor each, read by one generic handler.

Sources: the OpenAPI files in ``shared/specs`` (paths, status codes, LRO styles, enums,
read-only properties, defaults), reference/arm-api.md §0 (api-versions the services
list) and the versions today's SDK packages send (hybridcompute 10.0.0: 2026-07-15,
hybridkubernetes 2.0.0: 2026-05-01, network 33.1.0: 2026-03-01, privatedns 2.0.0:
2024-06-01, resource 26.0.0: 2025-04-01, kubernetesconfiguration 3.1.0: 2023-05-01).
Name rules the specs leave open are Azure's documented naming rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# --- api-versions per namespace (and per type where a type is younger) ------------------------

RESOURCES_VERSIONS = (
    "2014-04-01", "2015-01-01", "2015-11-01", "2016-02-01", "2016-06-01", "2016-07-01", "2016-09-01", "2017-05-10",
    "2017-08-01", "2018-02-01", "2018-05-01", "2019-03-01", "2019-05-01", "2019-05-10", "2019-07-01", "2019-08-01",
    "2019-09-01", "2019-10-01", "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01", "2022-09-01",
    "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01",
)
HYBRIDCOMPUTE_VERSIONS = (
    "2019-12-12", "2020-08-02", "2021-05-20", "2022-03-10", "2022-11-10", "2022-12-27", "2024-07-10", "2025-01-13",
    "2026-07-15", "2026-09-01",
    "2020-08-15-preview", "2021-01-28-preview", "2021-03-25-preview", "2021-04-22-preview", "2021-06-10-preview",
    "2021-12-10-preview", "2022-05-10-preview", "2022-08-11-preview", "2022-12-27-preview", "2023-03-15-preview",
    "2023-06-20-preview", "2023-10-03-preview", "2024-03-31-preview", "2024-05-20-preview", "2024-07-31-preview",
    "2024-09-10-preview", "2024-11-10-preview", "2025-02-19-preview", "2025-06-16-preview", "2026-06-16-preview",
)
KUBERNETES_VERSIONS = (
    "2021-03-01", "2021-10-01", "2024-01-01", "2026-05-01",
    "2020-01-01-preview", "2021-04-01-preview", "2022-05-01-preview", "2022-10-01-preview", "2023-11-01-preview",
    "2024-02-01-preview", "2024-06-01-preview", "2024-07-01-preview", "2024-07-15-preview", "2024-12-01-preview",
    "2025-08-01-preview", "2025-12-01-preview", "2026-02-01-preview",
)
EXTENSIONS_VERSIONS = (
    "2020-07-01-preview", "2021-05-01-preview", "2021-09-01", "2021-11-01-preview", "2022-01-01-preview",
    "2022-01-15-preview", "2022-03-01", "2022-04-02-preview", "2022-07-01", "2022-11-01", "2023-05-01",
    "2024-11-01", "2024-11-02-preview", "2025-03-01",
)
# Network publishes a version roughly every two months; this is the list since private endpoints
# (2019-04-01) plus the older ones VNets and NSGs accept. 2026-01-01 and 2026-03-01 are
# UNCONFIRMED beyond the SDK sending 2026-03-01.
NETWORK_VERSIONS = (
    "2015-06-15", "2016-03-30", "2016-06-01", "2016-09-01", "2016-12-01", "2017-03-01", "2017-06-01", "2017-08-01",
    "2017-09-01", "2017-10-01", "2017-11-01", "2018-01-01", "2018-02-01", "2018-04-01", "2018-06-01", "2018-07-01",
    "2018-08-01", "2018-10-01", "2018-11-01", "2018-12-01", "2019-02-01", "2019-04-01", "2019-06-01", "2019-07-01",
    "2019-08-01", "2019-09-01", "2019-11-01", "2019-12-01", "2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01",
    "2020-07-01", "2020-08-01", "2020-11-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01", "2022-01-01",
    "2022-05-01", "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01",
    "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01", "2025-01-01",
    "2025-03-01", "2025-05-01", "2025-07-01", "2025-09-01", "2026-01-01", "2026-03-01",
)
PE_VERSIONS = NETWORK_VERSIONS[NETWORK_VERSIONS.index("2019-04-01"):]
PRIVATEDNS_VERSIONS = ("2018-09-01", "2020-01-01", "2020-06-01", "2024-06-01", "2026-06-01-preview")
# Azure Monitor Private Link Scopes: azure-mgmt-monitor 6.0.2 sends 2019-10-17-preview (its default profile) and
# 2021-07-01-preview; 2021-09-01 and 2023-06-01-preview are UNCONFIRMED.
INSIGHTS_PLS_VERSIONS = ("2019-10-17-preview", "2021-07-01-preview", "2021-09-01", "2023-06-01-preview")
# DNS private resolver: azure-mgmt-dnsresolver 1.1.0 sends 2025-05-01.
DNSRESOLVER_VERSIONS = ("2020-04-01-preview", "2022-07-01", "2023-07-01-preview", "2025-05-01")

NAMESPACES = {
    "microsoft.resources": "Microsoft.Resources",
    "microsoft.hybridcompute": "Microsoft.HybridCompute",
    "microsoft.kubernetes": "Microsoft.Kubernetes",
    "microsoft.kubernetesconfiguration": "Microsoft.KubernetesConfiguration",
    "microsoft.network": "Microsoft.Network",
    "microsoft.insights": "Microsoft.Insights",
}

# --- names ------------------------------------------------------------------------------------------
RG_NAME = re.compile(r"^[-\w._()]{1,90}$")  # common-types v5 resourceGroupName (and not ending in '.')
SCOPE_NAME = re.compile(r"^[a-zA-Z0-9-_.]{1,64}$")  # spec: [a-zA-Z0-9-_\.]+
NETWORK_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,78}[a-zA-Z0-9_])?$")  # 1-80, naming rules
CLUSTER_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?$")
EXTENSION_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,251}[a-zA-Z0-9])?$")
ZONE_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.)+[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
RECORD_NAME = re.compile(r"^(@|\*|(\*\.)?[a-zA-Z0-9_](?:[a-zA-Z0-9_.-]{0,251}[a-zA-Z0-9_])?)$")
ANY_NAME = re.compile(r"^[^/?#<>%&:\\]{1,260}$")

ENABLED_DISABLED = ("Enabled", "Disabled")


@dataclass
class RType:
    """One resource type. ``key`` is the lower-case type path (``ns/type[/child...]``)."""

    key: str
    type: str  # canonical ARM type
    versions: tuple[str, ...]
    name: re.Pattern = ANY_NAME
    tracked: bool = False  # has a required location
    global_location: bool = False  # location is always "global"
    put: str = "sync"  # sync (200/201) | async (201 + Azure-AsyncOperation)
    delete: str = "sync"  # sync (200/204) | location (202 + Location, then 200/204)
    patch: str | None = "tags"  # tags | merge | None (not allowed)
    etag: bool = False
    fields: dict = field(default_factory=dict)  # "properties.x": kind
    readonly: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    defaults: dict = field(default_factory=dict)
    lower_name: bool = False  # ARM answers with the lower-cased name (record sets)
    parent: str | None = None  # key of the parent type
    list_scope: str = "rg"  # rg | parent

    @property
    def namespace(self) -> str:
        return self.type.split("/")[0]


T: dict[str, RType] = {}


def _add(rt: RType) -> RType:
    T[rt.key] = rt
    return rt


_add(RType("microsoft.resources/resourcegroups", "Microsoft.Resources/resourceGroups", RESOURCES_VERSIONS,
           name=RG_NAME, tracked=True, patch="merge", readonly=("properties.provisioningState",),
           fields={"managedBy": "str"}))

_add(RType("microsoft.hybridcompute/privatelinkscopes", "Microsoft.HybridCompute/privateLinkScopes",
           HYBRIDCOMPUTE_VERSIONS, name=SCOPE_NAME, tracked=True, put="sync", delete="location", patch="tags",
           fields={"properties.publicNetworkAccess": ("enum", ENABLED_DISABLED),
                   "properties.serviceExtensions": "list"},
           readonly=("properties.provisioningState", "properties.privateLinkScopeId",
                     "properties.privateEndpointConnections"),
           defaults={"properties.publicNetworkAccess": "Disabled"}))
_add(RType("microsoft.hybridcompute/privatelinkscopes/privateendpointconnections",
           "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections", HYBRIDCOMPUTE_VERSIONS,
           put="location", delete="location", patch=None, parent="microsoft.hybridcompute/privatelinkscopes",
           fields={"properties.privateLinkServiceConnectionState": "obj",
                   "properties.privateLinkServiceConnectionState.status": ("enum", ("Approved", "Pending", "Rejected", "Disconnected")),
                   "properties.privateLinkServiceConnectionState.description": "str",
                   "properties.privateEndpoint": "obj"},
           readonly=("properties.provisioningState", "properties.groupIds",
                     "properties.privateLinkServiceConnectionState.actionsRequired"),
           required=("properties.privateLinkServiceConnectionState.status",)))
_add(RType("microsoft.hybridcompute/privatelinkscopes/privatelinkresources",
           "Microsoft.HybridCompute/privateLinkScopes/privateLinkResources", HYBRIDCOMPUTE_VERSIONS,
           patch=None, parent="microsoft.hybridcompute/privatelinkscopes"))

_add(RType("microsoft.kubernetes/connectedclusters", "Microsoft.Kubernetes/connectedClusters", KUBERNETES_VERSIONS,
           name=CLUSTER_NAME, tracked=True, put="async", delete="location", patch="merge",
           fields={"kind": ("enum", ("ProvisionedCluster", "AWS")), "identity": "obj",
                   "identity.type": ("enum", ("None", "SystemAssigned")),
                   "properties.agentPublicKeyCertificate": "str",
                   "properties.privateLinkState": ("enum", ENABLED_DISABLED),
                   "properties.privateLinkScopeResourceId": "str",
                   "properties.azureHybridBenefit": ("enum", ("True", "False", "NotApplicable")),
                   "properties.distribution": "str", "properties.distributionVersion": "str",
                   "properties.infrastructure": "str", "properties.arcAgentryConfigurations": "list",
                   "properties.aadProfile": "obj", "properties.arcAgentProfile": "obj", "properties.gateway": "obj",
                   "properties.provisioningState": ("enum", ("Succeeded", "Failed", "Canceled", "Provisioning",
                                                             "Updating", "Deleting", "Accepted"))},
           readonly=("properties.kubernetesVersion", "properties.agentVersion", "properties.offering",
                     "properties.totalNodeCount", "properties.totalCoreCount", "properties.connectivityStatus",
                     "properties.lastConnectivityTime", "properties.managedIdentityCertificateExpirationTime",
                     "properties.miscellaneousProperties", "identity.principalId", "identity.tenantId"),
           required=("properties.agentPublicKeyCertificate",),
           defaults={"properties.privateLinkState": "Disabled", "properties.azureHybridBenefit": "NotApplicable",
                     "identity": {"type": "SystemAssigned"}}))
_add(RType("microsoft.kubernetesconfiguration/extensions", "Microsoft.KubernetesConfiguration/extensions",
           EXTENSIONS_VERSIONS, name=EXTENSION_NAME, put="async", delete="async", patch="merge",
           parent="microsoft.kubernetes/connectedclusters", list_scope="parent",
           fields={"properties.extensionType": "str", "properties.autoUpgradeMinorVersion": "bool",
                   "properties.autoUpgradeMode": ("enum", ("none", "patch", "compatible")),
                   "properties.releaseTrain": "str", "properties.version": "str", "properties.scope": "obj",
                   "properties.configurationSettings": "map", "properties.configurationProtectedSettings": "map",
                   "identity": "obj", "plan": "obj"},
           readonly=("properties.currentVersion", "properties.provisioningState", "properties.statuses",
                     "properties.errorInfo", "properties.customLocationSettings", "properties.packageUri",
                     "properties.aksAssignedIdentity", "properties.isSystemExtension"),
           required=("properties.extensionType",),
           defaults={"properties.autoUpgradeMinorVersion": True, "properties.releaseTrain": "Stable"}))

_NET_RO = ("properties.provisioningState", "properties.resourceGuid")
_add(RType("microsoft.network/virtualnetworks", "Microsoft.Network/virtualNetworks", NETWORK_VERSIONS,
           name=NETWORK_NAME, tracked=True, put="async", delete="location", patch="tags", etag=True,
           fields={"properties.addressSpace": "obj", "properties.addressSpace.addressPrefixes": "list",
                   "properties.subnets": "list", "properties.dhcpOptions": "obj",
                   "properties.dhcpOptions.dnsServers": "list", "properties.virtualNetworkPeerings": "list",
                   "properties.enableDdosProtection": "bool"},
           readonly=_NET_RO, required=("properties.addressSpace.addressPrefixes",)))
_add(RType("microsoft.network/virtualnetworks/subnets", "Microsoft.Network/virtualNetworks/subnets",
           NETWORK_VERSIONS, name=NETWORK_NAME, put="async", delete="location", patch=None, etag=True,
           parent="microsoft.network/virtualnetworks", list_scope="parent",
           fields={"properties.addressPrefix": "str", "properties.addressPrefixes": "list",
                   "properties.networkSecurityGroup": "obj",
                   "properties.privateEndpointNetworkPolicies": ("enum", ("Enabled", "Disabled",
                                                                          "NetworkSecurityGroupEnabled", "RouteTableEnabled")),
                   "properties.privateLinkServiceNetworkPolicies": ("enum", ENABLED_DISABLED)},
           readonly=("properties.provisioningState", "properties.privateEndpoints", "properties.ipConfigurations"),
           defaults={"properties.privateEndpointNetworkPolicies": "Disabled",
                     "properties.privateLinkServiceNetworkPolicies": "Enabled"}))
_add(RType("microsoft.network/networksecuritygroups", "Microsoft.Network/networkSecurityGroups", NETWORK_VERSIONS,
           name=NETWORK_NAME, tracked=True, put="async", delete="location", patch="tags", etag=True,
           fields={"properties.securityRules": "list", "properties.flushConnection": "bool"},
           readonly=_NET_RO + ("properties.defaultSecurityRules", "properties.subnets", "properties.networkInterfaces")))
_add(RType("microsoft.network/virtualnetworks/virtualnetworkpeerings",
           "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", NETWORK_VERSIONS, name=NETWORK_NAME,
           put="async", delete="location", patch=None, etag=True, parent="microsoft.network/virtualnetworks",
           list_scope="parent",
           fields={"properties.remoteVirtualNetwork": "obj", "properties.remoteVirtualNetwork.id": "str",
                   "properties.allowVirtualNetworkAccess": "bool", "properties.allowForwardedTraffic": "bool",
                   "properties.allowGatewayTransit": "bool", "properties.useRemoteGateways": "bool"},
           readonly=("properties.peeringState", "properties.peeringSyncLevel", "properties.provisioningState",
                     "properties.resourceGuid"),
           required=("properties.remoteVirtualNetwork.id",),
           defaults={"properties.allowVirtualNetworkAccess": True, "properties.allowForwardedTraffic": False,
                     "properties.allowGatewayTransit": False, "properties.useRemoteGateways": False}))
_RULE_FIELDS = {"properties.priority": "int",
                "properties.protocol": ("enum", ("Tcp", "Udp", "Icmp", "Esp", "*", "Ah")),
                "properties.access": ("enum", ("Allow", "Deny")),
                "properties.direction": ("enum", ("Inbound", "Outbound")),
                "properties.sourceAddressPrefix": "str", "properties.destinationAddressPrefix": "str",
                "properties.sourcePortRange": "str", "properties.destinationPortRange": "str",
                "properties.sourceAddressPrefixes": "list", "properties.destinationAddressPrefixes": "list",
                "properties.sourcePortRanges": "list", "properties.destinationPortRanges": "list",
                "properties.description": "str"}
_add(RType("microsoft.network/networksecuritygroups/securityrules",
           "Microsoft.Network/networkSecurityGroups/securityRules", NETWORK_VERSIONS, name=NETWORK_NAME,
           put="async", delete="location", patch=None, etag=True, parent="microsoft.network/networksecuritygroups",
           list_scope="parent", fields=dict(_RULE_FIELDS), readonly=("properties.provisioningState",),
           required=("properties.protocol", "properties.access", "properties.priority", "properties.direction")))
_add(RType("microsoft.network/privateendpoints", "Microsoft.Network/privateEndpoints", PE_VERSIONS,
           name=NETWORK_NAME, tracked=True, put="async", delete="location", patch="tags", etag=True,
           fields={"properties.subnet": "obj", "properties.subnet.id": "str",
                   "properties.privateLinkServiceConnections": "list",
                   "properties.manualPrivateLinkServiceConnections": "list",
                   "properties.customDnsConfigs": "list", "properties.ipConfigurations": "list",
                   "properties.customNetworkInterfaceName": "str", "properties.applicationSecurityGroups": "list",
                   "properties.ipVersionType": ("enum", ("IPv4", "IPv6", "DualStack"))},
           readonly=("properties.provisioningState", "properties.networkInterfaces"),
           required=("properties.subnet.id",)))
_add(RType("microsoft.network/privateendpoints/privatednszonegroups",
           "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", PE_VERSIONS, name=NETWORK_NAME,
           put="async", delete="location", patch=None, etag=True, parent="microsoft.network/privateendpoints",
           list_scope="parent", fields={"properties.privateDnsZoneConfigs": "list"},
           readonly=("properties.provisioningState",)))
_add(RType("microsoft.network/privatednszones", "Microsoft.Network/privateDnsZones", PRIVATEDNS_VERSIONS,
           name=ZONE_NAME, tracked=True, global_location=True, put="location", delete="location", patch="tags",
           etag=True, readonly=("properties.maxNumberOfRecordSets", "properties.numberOfRecordSets",
                                "properties.maxNumberOfVirtualNetworkLinks", "properties.numberOfVirtualNetworkLinks",
                                "properties.maxNumberOfVirtualNetworkLinksWithRegistration",
                                "properties.numberOfVirtualNetworkLinksWithRegistration",
                                "properties.provisioningState", "properties.internalId")))
_add(RType("microsoft.network/privatednszones/virtualnetworklinks",
           "Microsoft.Network/privateDnsZones/virtualNetworkLinks", PRIVATEDNS_VERSIONS, name=NETWORK_NAME,
           tracked=True, global_location=True, put="location", delete="location", patch="merge", etag=True,
           parent="microsoft.network/privatednszones", list_scope="parent",
           fields={"properties.virtualNetwork": "obj", "properties.virtualNetwork.id": "str",
                   "properties.registrationEnabled": "bool",
                   "properties.resolutionPolicy": ("enum", ("Default", "NxDomainRedirect"))},
           readonly=("properties.virtualNetworkLinkState", "properties.provisioningState"),
           required=("properties.virtualNetwork.id",),
           defaults={"properties.registrationEnabled": False, "properties.resolutionPolicy": "Default"}))
for _rt in ("A", "AAAA", "CNAME", "MX", "PTR", "SOA", "SRV", "TXT"):
    _add(RType(f"microsoft.network/privatednszones/{_rt.lower()}", f"Microsoft.Network/privateDnsZones/{_rt}",
               PRIVATEDNS_VERSIONS, name=RECORD_NAME, put="sync", delete="sync", patch="merge", etag=True,
               lower_name=True, parent="microsoft.network/privatednszones", list_scope="parent",
               fields={"properties.ttl": "int", "properties.metadata": "map", "properties.aRecords": "list",
                       "properties.aaaaRecords": "list", "properties.cnameRecord": "obj", "properties.txtRecords": "list",
                       "properties.mxRecords": "list", "properties.ptrRecords": "list", "properties.srvRecords": "list",
                       "properties.soaRecord": "obj"},
               readonly=("properties.fqdn", "properties.isAutoRegistered")))

# --- what Azure creates beside a private endpoint, and the resources APL011 and resolver forwarding need ----------
_add(RType("microsoft.network/networkinterfaces", "Microsoft.Network/networkInterfaces", NETWORK_VERSIONS,
           name=ANY_NAME, tracked=True, put="async", delete="location", patch=None, etag=True,
           readonly=_NET_RO + ("properties.ipConfigurations", "properties.privateEndpoint", "properties.macAddress")))
_add(RType("microsoft.insights/privatelinkscopes", "Microsoft.Insights/privateLinkScopes", INSIGHTS_PLS_VERSIONS,
           name=SCOPE_NAME, tracked=True, global_location=True, put="sync", delete="location", patch="tags",
           fields={"properties.accessModeSettings": "obj",
                   "properties.accessModeSettings.queryAccessMode": ("enum", ("Open", "PrivateOnly")),
                   "properties.accessModeSettings.ingestionAccessMode": ("enum", ("Open", "PrivateOnly"))},
           readonly=("properties.provisioningState", "properties.privateEndpointConnections"),
           defaults={"properties.accessModeSettings": {"queryAccessMode": "Open", "ingestionAccessMode": "Open",
                                                      "exclusions": []}}))
_add(RType("microsoft.insights/privatelinkscopes/scopedresources", "Microsoft.Insights/privateLinkScopes/scopedResources",
           INSIGHTS_PLS_VERSIONS, name=SCOPE_NAME, put="async", delete="location", patch=None,
           parent="microsoft.insights/privatelinkscopes", list_scope="parent",
           fields={"properties.linkedResourceId": "str"}, readonly=("properties.provisioningState",),
           required=("properties.linkedResourceId",)))
_add(RType("microsoft.insights/privatelinkscopes/privateendpointconnections",
           "Microsoft.Insights/privateLinkScopes/privateEndpointConnections", INSIGHTS_PLS_VERSIONS,
           put="async", delete="location", patch=None, parent="microsoft.insights/privatelinkscopes",
           fields={"properties.privateLinkServiceConnectionState": "obj",
                   "properties.privateLinkServiceConnectionState.status": "str",
                   "properties.privateEndpoint": "obj"},
           readonly=("properties.provisioningState",),
           required=("properties.privateLinkServiceConnectionState.status",)))
_RESOLVER_RO = ("properties.provisioningState", "properties.resourceGuid")
_add(RType("microsoft.network/dnsresolvers", "Microsoft.Network/dnsResolvers", DNSRESOLVER_VERSIONS, name=NETWORK_NAME,
           tracked=True, put="async", delete="location", patch="tags", etag=True,
           fields={"properties.virtualNetwork": "obj", "properties.virtualNetwork.id": "str"},
           readonly=_RESOLVER_RO + ("properties.dnsResolverState",), required=("properties.virtualNetwork.id",)))
_add(RType("microsoft.network/dnsresolvers/inboundendpoints", "Microsoft.Network/dnsResolvers/inboundEndpoints",
           DNSRESOLVER_VERSIONS, name=NETWORK_NAME, tracked=True, put="async", delete="location", patch="tags",
           etag=True, parent="microsoft.network/dnsresolvers", list_scope="parent",
           fields={"properties.ipConfigurations": "list"}, readonly=_RESOLVER_RO,
           required=("properties.ipConfigurations",)))
_add(RType("microsoft.network/dnsresolvers/outboundendpoints", "Microsoft.Network/dnsResolvers/outboundEndpoints",
           DNSRESOLVER_VERSIONS, name=NETWORK_NAME, tracked=True, put="async", delete="location", patch="tags",
           etag=True, parent="microsoft.network/dnsresolvers", list_scope="parent",
           fields={"properties.subnet": "obj", "properties.subnet.id": "str"}, readonly=_RESOLVER_RO,
           required=("properties.subnet.id",)))
_add(RType("microsoft.network/dnsforwardingrulesets", "Microsoft.Network/dnsForwardingRulesets", DNSRESOLVER_VERSIONS,
           name=NETWORK_NAME, tracked=True, put="async", delete="location", patch="tags", etag=True,
           fields={"properties.dnsResolverOutboundEndpoints": "list"}, readonly=_RESOLVER_RO,
           required=("properties.dnsResolverOutboundEndpoints",)))
_add(RType("microsoft.network/dnsforwardingrulesets/forwardingrules",
           "Microsoft.Network/dnsForwardingRulesets/forwardingRules", DNSRESOLVER_VERSIONS, name=NETWORK_NAME,
           put="sync", delete="sync", patch="merge", etag=True, parent="microsoft.network/dnsforwardingrulesets",
           list_scope="parent",
           fields={"properties.domainName": "str", "properties.targetDnsServers": "list", "properties.metadata": "map",
                   "properties.forwardingRuleState": ("enum", ENABLED_DISABLED)},
           readonly=("properties.provisioningState",),
           required=("properties.domainName", "properties.targetDnsServers"),
           defaults={"properties.forwardingRuleState": "Enabled"}))
_add(RType("microsoft.network/dnsforwardingrulesets/virtualnetworklinks",
           "Microsoft.Network/dnsForwardingRulesets/virtualNetworkLinks", DNSRESOLVER_VERSIONS, name=NETWORK_NAME,
           put="async", delete="location", patch="merge", etag=True, parent="microsoft.network/dnsforwardingrulesets",
           list_scope="parent",
           fields={"properties.virtualNetwork": "obj", "properties.virtualNetwork.id": "str", "properties.metadata": "map"},
           readonly=("properties.provisioningState",), required=("properties.virtualNetwork.id",)))


def _merge_spec_table() -> None:
    """Add what the OpenAPI files say (specs/spec_table.json): read-only paths, enums, defaults."""
    import json
    from pathlib import Path

    table = json.loads((Path(__file__).parent / "specs" / "spec_table.json").read_text(encoding="utf-8"))
    for rt in T.values():
        facts = table.get(rt.type) or (table.get("Microsoft.Network/privateDnsZones/A")
                                       if rt.parent == "microsoft.network/privatednszones" and rt.key != "microsoft.network/privatednszones/virtualnetworklinks" else None)
        if not facts:
            continue
        rt.readonly = tuple(dict.fromkeys((*rt.readonly, *facts["readonly"])))
        for path, values in facts["enums"].items():
            rt.fields.setdefault(path, ("enum", tuple(values)))
        for path, value in facts["defaults"].items():
            rt.defaults.setdefault(path, value)


_merge_spec_table()


def lookup(key: str) -> RType | None:
    return T.get(key)


def namespace_types(ns_lower: str) -> list[RType]:
    return [t for t in T.values() if t.key.split("/")[0] == ns_lower]


def provider_resource_types(ns_lower: str) -> list[dict]:
    """``resourceTypes`` of a provider answer (GET .../providers/{ns})."""
    out = []
    for t in namespace_types(ns_lower):
        rtype = t.type.split("/", 1)[1]
        out.append({"resourceType": rtype, "locations": [] if t.global_location else ["West Europe", "East US"],
                    "apiVersions": sorted(t.versions, reverse=True), "capabilities": "None"})
    return out
