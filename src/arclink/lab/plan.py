"""What a lab is made of, worked out from the topology alone (no root, no kernel).

One network namespace per on-premises site, per virtual network, and one "internet" for
the public side of Azure. Every modelled address sits on the loopback device of the
namespace that owns it (the lab needs no dummy module); namespaces are joined by veth
pairs created directly inside them, only where the topology has a link:

- a site's VPN/ExpressRoute connection: site <-> VNet;
- a VNet peering: VNet <-> VNet (a site reaches its hub's peers: gateway transit);
- a site's internet edge: site <-> internet (the site's firewall filters it).

Links carry no addresses of their own: routes name the device, every namespace forwards,
and proxy ARP answers for what lies behind it. So no address outside the topology's own
(and the lab's public resolver) ever appears.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field

from arclink.model import catalogue as cat
from arclink.model.index import Index
from arclink.model.resolve import public_lookup

# The lab's authoritative "internet DNS" (the emulator's internet view): TEST-NET-2, which no
# real network routes. Public resolvers forward to it from their own public address.
INTERNET_DNS = "198.51.100.53"
DEFAULT_PUBLIC_RESOLVER = "8.8.8.8"
ENGINES = ("bind", "unbound", "dnsmasq")
# the service tags whose public addresses the emulator's ARM server answers (Entra ID's token
# service shares ARM's port)
ARM_TAGS = frozenset({cat.TAG_ARM, cat.TAG_ENTRA})
# the service tags of MCR behind Front Door, whose public addresses the lab's registry answers
REGISTRY_TAGS = frozenset({cat.TAG_MCR, cat.TAG_FRONTDOOR})


@dataclass
class Node:
    ns: str  # namespace name
    kind: str  # site | vnet | internet
    name: str  # the topology's name (site or VNet), "internet"
    addresses: list[str] = field(default_factory=list)  # on lo, /32
    routes: list[tuple[str, str]] = field(default_factory=list)  # (prefix, device)


@dataclass
class Link:
    a: str  # namespace
    a_if: str
    b: str
    b_if: str
    purpose: str


@dataclass
class SiteDnsPlan:
    site: str
    ns: str
    address: str
    engine: str
    upstream: str  # a public resolver in the internet namespace, or the site's own upstream


@dataclass
class Forwarder:
    """A plain DNS forwarder (dnsmasq) at ``address`` in ``ns`` that asks ``target`` from its own address."""

    ns: str
    address: str
    target: str
    purpose: str


@dataclass
class Listener:
    """An emulator service on a lab address: dns (a view chosen by source), gateway, arm."""

    ns: str
    address: str
    port: int
    service: str
    purpose: str


@dataclass
class LabPlan:
    name: str
    nodes: dict[str, Node]  # by namespace
    links: list[Link]
    site_dns: list[SiteDnsPlan]
    forwarders: list[Forwarder]
    listeners: list[Listener]
    public_tags: dict[str, tuple[str, ...]]  # public address -> service tags (for firewalls)
    public_names: dict[str, str] = field(default_factory=dict)  # public name -> its address

    def tag_addresses(self) -> dict[str, list[str]]:
        """Service tag (lower case) -> the lab's public addresses of the catalogue's endpoints that carry it."""
        out: dict[str, list[str]] = {}
        for address, tags in self.public_tags.items():
            for tag in tags:
                out.setdefault(tag.lower(), []).append(address)
        return out

    def arm_names(self) -> tuple[str, ...]:
        """The public names ARM's certificate must carry in this lab (ARM's and Entra ID's)."""
        return tuple(sorted(n for n, a in self.public_names.items() if a in self.arm_addresses()))

    def arm_addresses(self) -> set[str]:
        return self.addresses_of("arm")

    def registry_names(self) -> tuple[str, ...]:
        """The public names the registry's certificate carries (MCR's, behind Front Door)."""
        return tuple(sorted(n for n, a in self.public_names.items() if a in self.addresses_of("registry")))

    def addresses_of(self, service: str) -> set[str]:
        return {ln.address for ln in self.listeners if ln.service == service}

    def site_ns(self, site: str) -> str | None:
        for node in self.nodes.values():
            if node.kind == "site" and node.name.lower() == site.lower():
                return node.ns
        return None

    @property
    def internet(self) -> Node:
        return next(n for n in self.nodes.values() if n.kind == "internet")


class PlanError(Exception):
    """The topology cannot be built as a lab; ``str()`` says why and what to do."""


def ns_name(lab: str, kind: str, name: str) -> str:
    """A namespace name: readable, unique per lab, short enough for /run/netns."""
    clean = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name.lower())[:40]
    return f"arclink-{lab}-{kind}-{clean}" if kind != "internet" else f"arclink-{lab}-internet"


def site_engine(site: str, engines: dict[str, str], default: str) -> str:
    return engines.get(site.lower(), default)


def build_plan(ix: Index, lab: str, default_engine: str = "bind", engines: dict[str, str] | None = None) -> LabPlan:
    engines = {k.lower(): v for k, v in (engines or {}).items()}
    for site, engine in list(engines.items()) + [("", default_engine)]:
        if engine not in ENGINES:
            raise PlanError(f"DNS engine '{engine}' is not one of {', '.join(ENGINES)}.")
        if site and ix.site(site) is None:
            raise PlanError(f"--dns-engine names site '{site}', which is not in the topology.")
    if not ix.sites:
        raise PlanError("the topology has no sites; a lab builds on-premises sites (add one under 'sites').")
    nodes: dict[str, Node] = {}
    inet = Node(ns_name(lab, "internet", ""), "internet", "internet")
    nodes[inet.ns] = inet
    vnet_ns = {}
    for v in ix.vnets.values():
        node = Node(ns_name(lab, "vnet", v.name), "vnet", v.name)
        node.addresses.append(cat.AZURE_DNS_IP)
        for pe in v.endpoints:
            for rec in pe.records:
                _add(node.addresses, rec.address)
            for addr in (pe.spec.ip_addresses or {}).values():
                _add(node.addresses, addr)
        for f in v.forwarders:
            _add(node.addresses, str(f.ip))
        nodes[node.ns] = vnet_ns[v.name.lower()] = node
    links: list[Link] = []
    counter = iter(range(1, 10_000))

    def link(a: Node, b: Node, purpose: str) -> tuple[str, str]:
        k = next(counter)
        links.append(Link(a.ns, f"lab{k}a", b.ns, f"lab{k}b", purpose))
        return f"lab{k}a", f"lab{k}b"

    peered = set()
    for v in ix.vnets.values():
        for p in v.peers:
            key = tuple(sorted((v.name.lower(), p.name.lower())))
            if key in peered or p.name.lower() not in vnet_ns:
                continue
            peered.add(key)
            a, b = vnet_ns[key[0]], vnet_ns[key[1]]
            ia, ib = link(a, b, "VNet peering")
            a.routes += [(str(n), ia) for n in ix.vnet(key[1]).networks]
            b.routes += [(str(n), ib) for n in ix.vnet(key[0]).networks]
    site_dns: list[SiteDnsPlan] = []
    forwarders: list[Forwarder] = []
    public_resolvers = {DEFAULT_PUBLIC_RESOLVER}
    for s in ix.sites.values():
        node = Node(ns_name(lab, "site", s.name), "site", s.name)
        nodes[node.ns] = node
        if s.spec.dns:
            _add(node.addresses, s.spec.dns.address)
        for c in ix.clusters_in(s):
            if c.address:
                _add(node.addresses, c.address)
        if not node.addresses and s.networks:
            node.addresses.append(str(s.networks[0].network_address + 10))
        site_nets = [str(n) for n in s.networks]
        for ctype, v in s.connections:
            vn = vnet_ns[v.name.lower()]
            si, vi = link(node, vn, ctype)
            node.routes += [(str(n), si) for n in v.networks]
            vn.routes += [(n, vi) for n in site_nets]
            # gateway transit: the site reaches the hub's peers through the hub, and they answer back
            for p in v.peers:
                node.routes += [(str(n), si) for n in p.networks if (str(n), si) not in node.routes]
                pn = vnet_ns[p.name.lower()]
                back = next(i for l in links if {l.a, l.b} == {pn.ns, vn.ns}
                            for i in ((l.a_if,) if l.a == pn.ns else (l.b_if,)))
                pn.routes += [(n, back) for n in site_nets]
        si, ii = link(node, inet, "internet edge (site firewall)")
        node.routes.append(("0.0.0.0/0", si))
        inet.routes += [(n, ii) for n in site_nets]
        if s.spec.dns:
            up = s.spec.dns.upstream
            if up != "internet" and not cat.is_private(up):
                public_resolvers.add(up)
            for cf in s.spec.dns.conditional_forwarders:
                public_resolvers.update(t for t in cf.targets if not cat.is_private(t))
            site_dns.append(SiteDnsPlan(s.name, node.ns, s.spec.dns.address,
                                        site_engine(s.name, engines, default_engine),
                                        DEFAULT_PUBLIC_RESOLVER if up == "internet" else up))
    for v in ix.vnets.values():
        # Azure's system route: a VNet reaches the internet (its NSGs' outbound rules decide what
        # may leave); its peerings and connections have more specific routes. The internet routes
        # the VNet's ranges back, unless a site (or another VNet) already holds the same prefix.
        vn = vnet_ns[v.name.lower()]
        vi, ii = link(vn, inet, "VNet's default route to the internet")
        vn.routes.append(("0.0.0.0/0", vi))
        routed = {prefix for prefix, _ in inet.routes}
        inet.routes += [(str(n), ii) for n in v.networks if str(n) not in routed]
    for r in sorted(public_resolvers):
        _add(inet.addresses, r)
        forwarders.append(Forwarder(inet.ns, r, INTERNET_DNS, "public resolver"))
    for v in ix.vnets.values():
        for f in v.forwarders:
            # a DNS private resolver inbound endpoint (or forwarder VM) asks its VNet's Azure DNS
            forwarders.append(Forwarder(vnet_ns[v.name.lower()].ns, str(f.ip), cat.AZURE_DNS_IP, f.name))
    listeners: list[Listener] = [Listener(inet.ns, INTERNET_DNS, 53, "dns", "internet DNS (public answers)")]
    inet.addresses.insert(0, INTERNET_DNS)
    for vn in vnet_ns.values():
        listeners.append(Listener(vn.ns, cat.AZURE_DNS_IP, 53, "dns", f"Azure DNS of {vn.name}"))
        for pe_addr in vn.addresses:
            if pe_addr != cat.AZURE_DNS_IP and pe_addr not in {f.address for f in forwarders}:
                listeners.append(Listener(vn.ns, pe_addr, 443, "gateway", "private endpoint"))
    public_tags = _public_addresses(ix)
    for addr, tags in public_tags.items():
        _add(inet.addresses, addr)
        # every public endpoint answers TCP 443: ARM and Entra ID (one server, as the emulator runs
        # them) on theirs, MCR behind Front Door on its, the gateway on the Arc ones (its protocol)
        service = "arm" if set(tags) & ARM_TAGS else "registry" if set(tags) & REGISTRY_TAGS else "gateway"
        listeners.append(Listener(inet.ns, addr, 443, service, "public " + "/".join(tags)))
    names = {ep.name: cat.public_address(ep.name) for loc in _locations(ix) for ep in cat.public_endpoints(loc)}
    return LabPlan(lab, nodes, links, site_dns, forwarders, listeners, public_tags, names)


def _public_addresses(ix: Index) -> dict[str, tuple[str, ...]]:
    """The public endpoints the lab's clients may dial: the Arc names' public answers and the page's public list."""
    out: dict[str, tuple[str, ...]] = {}
    for loc in _locations(ix):
        for rec in cat.arc_records(loc):
            hit = public_lookup(rec.private_fqdn)
            if hit and hit[0] == "A":
                out.setdefault(hit[1], (cat.TAG_ARC,))
        for ep in cat.public_endpoints(loc):
            out.setdefault(cat.public_address(ep.name), ep.tags)
    return out


def _locations(ix: Index) -> list[str]:
    locations = {cat.normalize_location(c.location) for c in ix.clusters.values() if c.location}
    locations |= {cat.normalize_location(pe.location) for pe in ix.endpoints.values() if pe.location}
    # a scope's region names the regional endpoints its clusters' agents and the doctor use
    locations |= {cat.normalize_location(s.location) for s in ix.scopes.values() if s.location}
    return sorted(locations or {"westeurope"})


def _add(items: list[str], address: str) -> None:
    ipaddress.ip_address(address)
    if address not in items:
        items.append(address)


def lab_id(name: str) -> str:
    """A short stable tag for names that must stay short (nft table comments, file names)."""
    return hashlib.sha256(name.encode()).hexdigest()[:8]
