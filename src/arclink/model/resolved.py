"""A topology with its references resolved: the resources, and the Index every question is asked of.

``model.index.build_index`` makes an ``Index`` from a ``schema.Topology``; this module holds
what it makes. An index never changes once built, so anything derived from it is computed
once: whole-index tables are ``cached_property``s here, and the questions other modules ask
of it (a site's resolution of a name, a rule's grouping of clusters) go through
``Index.memo``, one keyed memo per index.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Hashable, TypeVar

from arclink.model import catalogue as cat
from arclink.model import schema

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "rg-arclink"
DEFAULT_LOCATION = "westeurope"

_ARM_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/(?P<ns>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)(?P<rest>(/[^/]+/[^/]+)*)$",
    re.IGNORECASE,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
T = TypeVar("T")


def parse_arm_id(value: str) -> dict[str, str] | None:
    m = _ARM_ID.fullmatch(value or "")
    return m.groupdict() if m else None


def arm_id(sub: str, rg: str, rtype: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}"


# --- resolved resources ----------------------------------------------------------------------


@dataclass(eq=False)
class Res:
    spec: Any  # the schema object; each subclass names its type
    path: str  # JSON path into the topology document, for messages and lines
    id: str
    subscription: str
    resource_group: str
    location: str

    # Set by the builder where another resource of the same type has the same name: the resource
    # group (or subscription/resource group) that tells them apart in messages. See ``shown``.
    qualifier = ""

    @property
    def name(self) -> str:
        return str(self.spec.name)

    @property
    def near(self) -> tuple[str, str]:
        """(subscription, resource group), lower-case: where names this resource refers by are looked up first."""
        return self.subscription.lower(), self.resource_group.lower()


def shown(r: object) -> str:
    """A resource's name for a message: 'vnet-hub', or 'vnet-hub' (rg-a) where another resource of
    its type has the same name in another resource group."""
    q = getattr(r, "qualifier", "")
    return f"'{getattr(r, 'name')}'" + (f" ({q})" if q else "")


@dataclass(eq=False)
class SubnetR:
    spec: schema.Subnet
    path: str
    id: str
    vnet: VNetR
    network: IPNetwork
    nsg: NsgR | None = None
    taken: set[IPAddress] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(eq=False)
class VNetR(Res):
    spec: schema.VirtualNetwork
    networks: list[IPNetwork] = field(default_factory=list)
    subnets: dict[str, SubnetR] = field(default_factory=dict)  # lower name -> SubnetR
    peers: list[VNetR] = field(default_factory=list)
    # this VNet's side of each peering, by the peer's lower-case id (absent: both flags false)
    peering_sides: dict[str, schema.VirtualNetworkPeering] = field(default_factory=dict)
    zone_links: list[tuple[ZoneR, schema.VirtualNetworkLink]] = field(default_factory=list)
    forwarders: list[ForwarderR] = field(default_factory=list)
    endpoints: list[PeR] = field(default_factory=list)  # private endpoints in this VNet

    def contains(self, ip: IPAddress) -> bool:
        return any(ip in n for n in self.networks)

    def side(self, peer: VNetR) -> schema.VirtualNetworkPeering:
        """This VNet's side of its peering with ``peer``: its gateway-transit flags."""
        return self.peering_sides.get(peer.id.lower()) or schema.VirtualNetworkPeering(virtual_network=peer.name)


@dataclass(eq=False)
class NsgR(Res):
    spec: schema.NetworkSecurityGroup


@dataclass(eq=False)
class ScopeR(Res):
    spec: schema.PrivateLinkScope
    guid: str = ""
    endpoints: list[PeR] = field(default_factory=list)  # private endpoints targeting this scope


@dataclass(eq=False)
class PeRecord:
    record: cat.ArcRecord
    address: str


@dataclass(eq=False)
class PeR(Res):
    spec: schema.PrivateEndpoint
    subnet: SubnetR
    scope: ScopeR | None = None
    target_id: str = ""
    target_type: str = ""  # namespace/type of the target, e.g. Microsoft.HybridCompute/privateLinkScopes
    state: str = "Approved"
    records: list[PeRecord] = field(default_factory=list)  # for Arc targets
    zones: list[ZoneR] = field(default_factory=list)  # the zones of its zone group

    @property
    def vnet(self) -> VNetR:
        return self.subnet.vnet

    @property
    def is_arc(self) -> bool:
        return self.target_type.lower() == cat.ARC_RESOURCE_TYPE.lower()

    def address_of(self, fqdn: str) -> str | None:
        f = fqdn.rstrip(".").lower()
        for r in self.records:
            if r.record.fqdn == f or r.record.private_fqdn == f:
                return r.address
        return None


@dataclass(eq=False)
class ZRecord:
    name: str  # relative, lower-case
    type: str
    ttl: int
    addresses: list[str]
    cname: str | None
    path: str
    source: str  # "zone" (written in the zone) or "zoneGroup:<pe name>"
    texts: list[str] = field(default_factory=list)  # TXT: each record's strings, as DNS text ("a" "b")
    soa: str | None = None  # SOA: the rdata text (an "@" record overriding the zone's numbers)


@dataclass(eq=False)
class ZoneR(Res):
    spec: schema.PrivateDnsZone
    links: list[tuple[VNetR, schema.VirtualNetworkLink]] = field(default_factory=list)
    records: dict[tuple[str, str], ZRecord] = field(default_factory=dict)  # (name, type) -> record
    names: set[str] = field(default_factory=set)  # every name with a record set: NODATA, not NXDOMAIN

    def put(self, record: ZRecord) -> None:
        self.records[(record.name, record.type)] = record
        self.names.add(record.name)

    @property
    def zone_name(self) -> str:
        return self.spec.name.lower()


@dataclass(eq=False)
class ForwarderR(Res):
    spec: schema.DnsForwarder
    vnet: VNetR
    ip: IPAddress


@dataclass(eq=False)
class SiteR:
    spec: schema.Site
    path: str
    networks: list[IPNetwork]
    connections: list[tuple[str, VNetR]]  # (type, VNetR)

    @property
    def name(self) -> str:
        return self.spec.name

    def contains(self, ip: IPAddress) -> bool:
        return any(ip in n for n in self.networks)


@dataclass(eq=False)
class ClusterR(Res):
    spec: schema.Cluster
    site: SiteR | None = None
    address: str | None = None
    scope: ScopeR | None = None
    # where the index filled in the address: its place in its site's sequence of filled-in addresses
    auto_place: int | None = None

    @property
    def private_link(self) -> bool:
        return self.spec.private_link_state == "Enabled"


# --- the index --------------------------------------------------------------------------------


R = TypeVar("R", bound="Res")
Near = tuple[str, str]  # (subscription, resource group), lower-case: where a reference is written


class Resources(dict[str, R]):
    """One type's resources keyed by lower-case ARM id, with their names beside.

    Two resources of a type may share a name in different resource groups, as in Azure.
    ``table[key]`` and ``table.get(key)`` take an ARM id, or a name that only one resource has.
    """

    def __init__(self) -> None:
        super().__init__()
        self._names: dict[str, list[R]] = {}

    def add(self, r: R) -> None:
        self[r.id.lower()] = r
        self._names.setdefault(r.name.lower(), []).append(r)

    def by_key(self, key: str) -> R | None:
        """The resource with this lower-case ARM id, or None (no name lookup)."""
        return dict.get(self, key)

    def named(self, name: str) -> list[R]:
        """Every resource with this name (compared without case), in topology order."""
        return self._names.get(name.lower(), [])

    def shared_names(self) -> list[list[R]]:
        """The groups of resources that share a name."""
        return [rs for rs in self._names.values() if len(rs) > 1]

    def candidates(self, ref: str, near: Near | None = None) -> list[R]:
        """What a reference may mean: the resource with this ARM id; else the resources of this name in the
        referring resource's own resource group (``near``), if any; else every resource of this name."""
        if ref.startswith("/"):
            hit = self.by_key(ref.rstrip("/").lower())
            return [hit] if hit is not None else []
        hits = self.named(ref)
        if len(hits) > 1 and near is not None:
            mine = [r for r in hits if (r.subscription.lower(), r.resource_group.lower()) == near]
            if mine:
                return mine
        return hits

    def find(self, ref: str | None, near: Near | None = None) -> R | None:
        """The one resource a reference means, or None (none, or an ambiguous name)."""
        if not ref:
            return None
        hits = self.candidates(ref, near)
        return hits[0] if len(hits) == 1 else None

    def __getitem__(self, key: str) -> R:
        hit = self.find(key)
        if hit is None:
            raise KeyError(key)
        return hit

    def get(self, key: str, default: Any = None) -> Any:
        hit = self.find(key)
        return default if hit is None else hit

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.find(key) is not None


class Index:
    """Resolved topology. Resources are keyed by lower-case ARM id (sites and forwarders by name);
    lookups take an ARM id or a name (see ``Resources``)."""

    def __init__(self, topo: schema.Topology):
        self.topology = topo
        self.subscriptions: dict[str, schema.Subscription] = {}
        self.resource_groups: dict[tuple[str, str], schema.ResourceGroup] = {}
        self.vnets: Resources[VNetR] = Resources()
        self.nsgs: Resources[NsgR] = Resources()
        self.scopes: Resources[ScopeR] = Resources()
        self.endpoints: Resources[PeR] = Resources()
        self.zones: Resources[ZoneR] = Resources()
        self.forwarders: dict[str, ForwarderR] = {}
        self.forwarders_by_ip: dict[str, ForwarderR] = {}
        self.sites: dict[str, SiteR] = {}
        self.clusters: Resources[ClusterR] = Resources()
        self.by_id: dict[str, object] = {}
        self.default_subscription = DEFAULT_SUBSCRIPTION
        self.default_resource_group = DEFAULT_RESOURCE_GROUP
        self.default_location = DEFAULT_LOCATION
        self._memo: dict[Hashable, Any] = {}
        self._auto_counts: dict[str, int] = {}  # site name (as written) -> addresses filled in so far
        self._clusters_of: dict[int, list[ClusterR]] = {}  # id(site or scope) -> its clusters: ``clusters_in``

    # lookups ----------------------------------------------------------------------------
    # ``near`` is the (subscription, resource group) of the resource that holds the reference.
    def scope(self, ref: str | None, near: Near | None = None) -> ScopeR | None:
        return self.scopes.find(ref, near)

    def vnet(self, ref: str | None, near: Near | None = None) -> VNetR | None:
        return self.vnets.find(ref, near)

    def nsg(self, ref: str | None, near: Near | None = None) -> NsgR | None:
        return self.nsgs.find(ref, near)

    def site(self, ref: str | None) -> SiteR | None:
        return self.sites.get((ref or "").lower())

    def cluster(self, ref: str | None, near: Near | None = None) -> ClusterR | None:
        return self.clusters.find(ref, near)

    def zone(self, name: str) -> ZoneR | None:
        """A private DNS zone by its DNS name (the first one, where several resource groups have one) or ARM id."""
        if name.startswith("/"):
            return self.zones.find(name)
        same = self.zones.named(name.rstrip("."))
        return same[0] if same else None

    def locate(self, address: str) -> SiteR | VNetR | None:
        """The site or VNet an address belongs to (most specific prefix), or None (internet)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        for net, owner in self.owners():
            if ip in net:
                return owner
        return None

    def owners(self) -> list[tuple[IPNetwork, SiteR | VNetR]]:
        """Every site and VNet prefix with its owner, most specific first."""
        return self._owners

    def endpoint_at(self, address: str) -> tuple[PeR, PeRecord] | None:
        """The private endpoint (and its record) that owns a private address."""
        return self._endpoints_by_address.get(address)

    def clusters_in(self, holder: SiteR | ScopeR) -> list[ClusterR]:
        """The clusters of a site or scope in this index, in topology order.

        The lists are the index's, not the site's or scope's: a live version made by
        ``model.cluster_patch`` shares site and scope objects with the versions before it and derives
        its own lists; and with no list of clusters on a site or scope, nothing in a version refers
        back from the network to its clusters, so an old version is freed as soon as nothing holds
        it (without the collector's full pass over the estate, ``arm.live``)."""
        return self._clusters_of.get(id(holder), [])

    def cluster_for_agent_key(self, der: bytes) -> ClusterR | None:
        """The cluster whose agent public key (``agentPublicKeyCertificate``, decoded) is ``der``;
        where several share one, the last in topology order. The table is a memo entry that
        ``model.cluster_patch`` carries to the next version, so an admission after a cluster write
        does not read every cluster again."""
        return self.memo(AGENT_KEYS, self._agent_keys).get(der)

    def _agent_keys(self) -> AgentKeys:
        keys = AgentKeys()
        for c in self.clusters.values():
            der = agent_key(c)
            if der is not None:
                keys.shared = keys.shared or der in keys
                keys[der] = c
        return keys

    # derived once ------------------------------------------------------------------------
    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per index and key: the one cache for questions asked of an index.

        Keys start with the asking module's tag (``("resolution", ...)``, ``("landing", ...)``)
        so that two modules never share an entry by accident.
        """
        value: T = self._memo.get(key, _MISSING)
        if value is _MISSING:
            value = self._memo[key] = compute()
        return value

    @cached_property
    def _owners(self) -> list[tuple[IPNetwork, SiteR | VNetR]]:
        owners: list[tuple[IPNetwork, SiteR | VNetR]] = []
        for s in self.sites.values():
            owners += [(n, s) for n in s.networks]
        for v in self.vnets.values():
            owners += [(n, v) for n in v.networks]
        owners.sort(key=lambda t: -t[0].prefixlen)
        return owners

    @cached_property
    def _endpoints_by_address(self) -> dict[str, tuple[PeR, PeRecord]]:
        table: dict[str, tuple[PeR, PeRecord]] = {}
        for pe in self.endpoints.values():
            for rec in pe.records:
                table[rec.address] = (pe, rec)
        return table


_MISSING = object()
AGENT_KEYS = ("agent-keys",)  # the memo key of ``Index.cluster_for_agent_key``'s table


class AgentKeys(dict[bytes, "ClusterR"]):
    """Agent public key -> cluster; ``shared``: some key is held by more than one cluster."""

    shared = False


def agent_key(cluster: ClusterR) -> bytes | None:
    """A cluster's agent public key as DER bytes, None where it has none or it is not base64."""
    value = cluster.spec.agent_public_key_certificate
    if not value:
        return None
    try:
        return base64.b64decode(value)
    except (binascii.Error, ValueError):
        return None
