"""The resource types ``arclink import azure`` reads: one entry per type, the reader is generic.

Each top-level type is listed once per subscription (or resource group), paged; ARM returns the
inline children with it (a VNet's subnets and peerings, an NSG's rules, a private endpoint's DNS
configuration). Child collections that ARM does not inline are listed once per parent. Adding a
type is one entry here; what the model makes of it is ``arclink.model.arm_codec``.

api-versions: the types ``arclink apply`` writes use the plan's table (passed in by the command
line, so that there is one table); the types only read here pin theirs in ``READ_VERSIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

# Types arclink reads but never writes: the versions of the specs the SDKs were generated from.
READ_VERSIONS = {
    "Microsoft.Resources/subscriptions": "2022-12-01",
    "Microsoft.Resources/resources": "2025-04-01",
    "Microsoft.Resources/providers": "2025-04-01",
    "Microsoft.Resources/resourceGroups": "2025-04-01",
    # Azure Monitor private link scope (azure-mgmt-monitor's privatelinkscopes spec)
    "Microsoft.Insights/privateLinkScopes": "2021-07-01-preview",
    # DNS private resolver (azure-mgmt-dnsresolver; 2022-07-01 is the first GA version)
    "Microsoft.Network/dnsResolvers": "2022-07-01",
    "Microsoft.Network/dnsResolvers/inboundEndpoints": "2022-07-01",
    "Microsoft.Network/dnsForwardingRulesets": "2022-07-01",
    "Microsoft.Network/dnsForwardingRulesets/forwardingRules": "2022-07-01",
    "Microsoft.Network/dnsForwardingRulesets/virtualNetworkLinks": "2022-07-01",
}


@dataclass(frozen=True)
class Child:
    """A collection listed under each parent: ``{parent id}/{segment}``."""

    segment: str  # e.g. "virtualNetworkLinks", "ALL", "providers/Microsoft.KubernetesConfiguration/extensions"
    version_of: str  # the type whose api-version the listing takes


@dataclass(frozen=True)
class Listed:
    """A top-level type, listed per subscription or resource group."""

    type: str
    children: tuple[Child, ...] = field(default_factory=tuple)
    inline: tuple[str, ...] = ()  # child types ARM returns inside the parent (documentation; counted as known)

    @property
    def namespace(self) -> str:
        return self.type.split("/", 1)[0]

    def path(self, scope: str) -> str:
        """The listing URL under a subscription or resource group id."""
        return f"{scope}/providers/{self.type}"


TYPES: tuple[Listed, ...] = (
    Listed("Microsoft.Network/networkSecurityGroups", inline=("Microsoft.Network/networkSecurityGroups/securityRules",)),
    Listed("Microsoft.Network/virtualNetworks", inline=("Microsoft.Network/virtualNetworks/subnets",
                                                        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings")),
    Listed("Microsoft.HybridCompute/privateLinkScopes",
           inline=("Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections",)),
    Listed("Microsoft.Insights/privateLinkScopes",
           inline=("Microsoft.Insights/privateLinkScopes/privateEndpointConnections",)),
    Listed("Microsoft.Network/privateDnsZones", children=(
        Child("virtualNetworkLinks", "Microsoft.Network/privateDnsZones/virtualNetworkLinks"),
        Child("ALL", "Microsoft.Network/privateDnsZones"),  # every record set of the zone, one listing
    )),
    Listed("Microsoft.Network/privateEndpoints", children=(
        Child("privateDnsZoneGroups", "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"),
    )),
    Listed("Microsoft.Network/dnsResolvers", children=(
        Child("inboundEndpoints", "Microsoft.Network/dnsResolvers/inboundEndpoints"),
    )),
    Listed("Microsoft.Network/dnsForwardingRulesets", children=(
        Child("forwardingRules", "Microsoft.Network/dnsForwardingRulesets/forwardingRules"),
        Child("virtualNetworkLinks", "Microsoft.Network/dnsForwardingRulesets/virtualNetworkLinks"),
    )),
    Listed("Microsoft.Kubernetes/connectedClusters", children=(
        Child("providers/Microsoft.KubernetesConfiguration/extensions", "Microsoft.KubernetesConfiguration/extensions"),
    )),
)

# Read but not (yet) part of the model: counted under their type, never silently dropped.
UNMODELLED = frozenset(t.lower() for t in (
    "Microsoft.Insights/privateLinkScopes",
    "Microsoft.Network/dnsResolvers",  # their inbound endpoints are modelled (dnsForwarders)
    "Microsoft.Network/dnsForwardingRulesets",
    "Microsoft.Network/dnsForwardingRulesets/forwardingRules",
    "Microsoft.Network/dnsForwardingRulesets/virtualNetworkLinks",
))


def known_types() -> frozenset[str]:
    """Every type (lower case) the table reads, top-level, listed or inline."""
    out = {"microsoft.resources/resourcegroups"}
    for t in TYPES:
        out.add(t.type.lower())
        out.update(i.lower() for i in t.inline)
        for c in t.children:
            out.add(c.version_of.lower())
    return frozenset(out)


def version(versions: Mapping[str, str], rtype: str) -> str:
    """The api-version for ``rtype``: the plan's table first, then the read-only one."""
    v = versions.get(rtype) or READ_VERSIONS.get(rtype)
    if v is None:
        raise KeyError(f"no api-version for {rtype}")
    return v
