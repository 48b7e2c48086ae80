"""The topology file's schema: one set of types for files, the emulator and the rules.

Property names are ARM's where ARM has the thing (``publicNetworkAccess``,
``privateLinkState``, ``privateLinkScopeResourceId``, ``addressPrefix``...).
What ARM does not have (on-premises sites, their DNS servers and firewalls)
uses plain names in the same camelCase style.

References between objects are by name (``privateLinkScope: pls-arc``) or by
full ARM id; ``arclink.model.index`` resolves both.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from arclink.model import catalogue as cat


class _S(msgspec.Struct, rename="camel", forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Base: camelCase keys, unknown keys are errors, defaults left out when written."""


class Defaults(_S):
    subscription: str | None = None
    resource_group: str | None = None
    location: str | None = None


class ResourceGroup(_S):
    name: str
    location: str
    subscription: str | None = None


class Subscription(_S):
    id: str
    name: str = ""
    tenant_id: str | None = None
    registered_providers: list[str] = []


# --- Azure networking -------------------------------------------------------


class SecurityRule(_S):
    name: str
    priority: int
    direction: Literal["Inbound", "Outbound"]
    access: Literal["Allow", "Deny"]
    protocol: Literal["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"] = "*"
    source_address_prefix: str = "*"
    source_port_range: str = "*"
    destination_address_prefix: str = "*"
    destination_port_range: str = "*"
    # ARM's plural forms; where one is given it is the rule's set and the singular is not read
    # (``nsg.sources`` and friends), as in Azure, which takes one form or the other.
    source_address_prefixes: list[str] = []
    source_port_ranges: list[str] = []
    destination_address_prefixes: list[str] = []
    destination_port_ranges: list[str] = []


class NetworkSecurityGroup(_S):
    name: str
    location: str | None = None
    resource_group: str | None = None
    subscription: str | None = None
    security_rules: list[SecurityRule] = []


class Subnet(_S):
    name: str
    address_prefix: str
    network_security_group: str | None = None
    # ARM's setting: NSGs apply to private endpoints only when policies are enabled.
    private_endpoint_network_policies: Literal[
        "Enabled", "Disabled", "NetworkSecurityGroupEnabled", "RouteTableEnabled"
    ] = "Disabled"


class VirtualNetworkPeering(_S):
    """This VNet's side of its peering with ``virtualNetwork``, with ARM's gateway-transit flags.

    A peering listed by name alone is this form with both flags false, ARM's defaults. Each VNet
    carries its own side: a hub's entry allows gateway transit, a spoke's uses the remote gateways.
    Listed on one side only, the other side exists with both flags false.
    """

    virtual_network: str
    allow_gateway_transit: bool = False
    use_remote_gateways: bool = False


class VirtualNetwork(_S):
    name: str
    address_space: list[str]
    location: str | None = None
    resource_group: str | None = None
    subscription: str | None = None
    subnets: list[Subnet] = []
    # Empty means Azure-provided DNS (168.63.129.16 with the VNet's private zone links).
    dns_servers: list[str] = []
    # A peered VNet's name (or id), or this side of the peering with its flags.
    peerings: list[str | VirtualNetworkPeering] = []


class PrivateLinkScope(_S):
    """``Microsoft.HybridCompute/privateLinkScopes``: the Azure Arc Private Link Scope."""

    name: str
    location: str | None = None
    resource_group: str | None = None
    subscription: str | None = None
    public_network_access: Literal["Enabled", "Disabled"] = "Disabled"
    private_link_scope_id: str | None = None  # the GUID ARM assigns


class PrivateEndpoint(_S):
    name: str
    subnet: str  # "vnet/subnet" or a subnet ARM id
    # A scope name, or any ARM id (for example an Azure Monitor private link scope).
    private_link_service_id: str
    location: str | None = None
    resource_group: str | None = None
    subscription: str | None = None
    group_ids: list[str] = msgspec.field(default_factory=lambda: [cat.ARC_GROUP_ID])
    manual_approval: bool = False
    # Pending until approved for manual connections; Approved for automatic ones.
    connection_state: Literal["Approved", "Pending", "Rejected", "Disconnected"] | None = None
    # Zone names of the private DNS zone group ("Integrate with private DNS zone: Yes").
    # None means DNS records are managed by hand ("No").
    private_dns_zone_group: list[str] | None = None
    # Optional fixed addresses per FQDN; otherwise taken in order from the subnet.
    ip_addresses: dict[str, str] = {}


class AaaaRecord(_S):
    ipv6_address: str


class CnameRecord(_S):
    cname: str


class TxtRecord(_S):
    value: list[str]


class SoaRecord(_S):
    """The zone's ``@`` SOA; Azure fixes ``host`` and ``email``, the numbers may be changed."""

    host: str = str(cat.PRIVATE_ZONE_SOA["host"])
    email: str = str(cat.PRIVATE_ZONE_SOA["email"])
    serial_number: int = 1
    refresh_time: int = 3600
    retry_time: int = 300
    expire_time: int = 2419200
    minimum_ttl: int = 10


class RecordSet(_S):
    """A record set of a private DNS zone. ``addresses`` and ``cname`` are the short forms; ARM's
    ``aaaaRecords``, ``cnameRecord``, ``txtRecords`` and ``soaRecord`` are read as well."""

    name: str  # relative to the zone; "@" for the apex
    type: Literal["A", "AAAA", "CNAME", "TXT", "SOA"] = "A"
    ttl: int = 10
    addresses: list[str] = []
    cname: str | None = None
    aaaa_records: list[AaaaRecord] = []
    cname_record: CnameRecord | None = None
    txt_records: list[TxtRecord] = []
    soa_record: SoaRecord | None = None


class VirtualNetworkLink(_S):
    virtual_network: str
    name: str | None = None
    registration_enabled: bool = False
    resolution_policy: Literal["Default", "NxDomainRedirect"] = "Default"


class PrivateDnsZone(_S):
    name: str
    resource_group: str | None = None
    subscription: str | None = None
    virtual_network_links: list[VirtualNetworkLink] = []
    records: list[RecordSet] = []


class DnsForwarder(_S):
    """A DNS forwarder in Azure that on-premises servers can reach.

    ``privateResolverInbound`` is a DNS private resolver inbound endpoint; ``vm`` a
    forwarder VM; ``firewallDnsProxy`` an Azure Firewall with DNS proxy. All three
    resolve through Azure DNS (168.63.129.16) of their virtual network.
    """

    name: str
    kind: Literal["privateResolverInbound", "vm", "firewallDnsProxy"]
    virtual_network: str
    ip_address: str
    location: str | None = None
    resource_group: str | None = None
    subscription: str | None = None


# --- on-premises ------------------------------------------------------------


class SiteConnection(_S):
    type: Literal["ExpressRoute", "SiteToSiteVPN"]
    virtual_network: str


class ConditionalForwarder(_S):
    zone: str
    targets: list[str]


class ManualRecord(_S):
    name: str  # a full name, e.g. gbl.his.arc.azure.com or gbl.privatelink.his.arc.azure.com
    type: Literal["A", "CNAME"] = "A"
    ttl: int = 3600
    addresses: list[str] = []
    cname: str | None = None


class SiteDns(_S):
    """The DNS server the site's machines use."""

    address: str
    conditional_forwarders: list[ConditionalForwarder] = []
    # Zones the server hosts itself (manual DNS); names in them come from ``records`` only.
    zones: list[str] = []
    records: list[ManualRecord] = []
    # Where other queries go: "internet" (recursive, public answers) or an IP address.
    upstream: str = "internet"


class SiteFirewall(_S):
    allow_all: bool = False
    outbound: list[str] = []  # service tags allowed out on TCP 443
    inbound: list[str] = []  # service tags allowed in


class Site(_S):
    name: str
    address_space: list[str]
    connections: list[SiteConnection] = []
    dns: SiteDns | None = None
    firewall: SiteFirewall | None = None


class ClusterTools(_S):
    connectedk8s: str | None = None
    azure_cli: str | None = None


class Cluster(_S):
    """``Microsoft.Kubernetes/connectedClusters`` plus where it runs."""

    name: str
    site: str | None = None
    address: str | None = None  # the node address; defaults to one in the site
    location: str | None = None
    resource_group: str | None = None
    subscription: str | None = None
    private_link_state: Literal["Enabled", "Disabled"] = "Disabled"
    private_link_scope_resource_id: str | None = None  # a scope name or ARM id
    extensions: list[str] = []  # extension types, e.g. microsoft.flux
    features: list[str] = []  # cluster-connect, custom-locations, ...
    tools: ClusterTools | None = None
    agent_public_key_certificate: str | None = None


class Topology(_S):
    """A whole plan: everything the rules, resolve() and reach() look at."""

    defaults: Defaults = msgspec.field(default_factory=Defaults)
    subscriptions: list[Subscription] = []
    resource_groups: list[ResourceGroup] = []
    virtual_networks: list[VirtualNetwork] = []
    network_security_groups: list[NetworkSecurityGroup] = []
    private_link_scopes: list[PrivateLinkScope] = []
    private_endpoints: list[PrivateEndpoint] = []
    private_dns_zones: list[PrivateDnsZone] = []
    dns_forwarders: list[DnsForwarder] = []
    sites: list[Site] = []
    clusters: list[Cluster] = []


def json_schema() -> dict:
    """The JSON Schema of a topology file (``arclink schema``)."""
    return msgspec.json.schema(Topology)
