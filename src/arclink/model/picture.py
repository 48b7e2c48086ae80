"""The topology picture as data: which way each cluster's traffic goes and where it stops.

``picture(ix)`` lays every cluster's path out left to right along the columns of ``COLUMNS``
(cluster, site, its DNS server, the resolver or forwarder that answered the Arc names, the
VPN/ExpressRoute link, the virtual network, the private endpoint, the scope), from the same
traces ``arclink explain`` prints (``model.trace.cluster_trace``). A path is coloured by its
verdict and ends at the hop that refuses it (``Path.fail_at``). Large fleets aggregate: clusters
of a site with the same path are one node with a count, and past ``SITE_LIMIT`` sites, sites
with the same DNS and link are one node, so the picture stays readable at 1,000 sites.

The portal and ``arclink explain --format svg`` draw it; this module only decides it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from arclink.model.index import ClusterR, Index, SiteR
from arclink.model.reach import Reach
from arclink.model.trace import ClusterTrace, NameTrace, cluster_trace

COLUMNS = ("Clusters", "Sites", "DNS servers", "Resolvers", "Links", "Virtual networks",
           "Private endpoints", "Scopes")
NOUNS = ("cluster", "site", "DNS server", "resolver", "link", "virtual network", "private endpoint", "scope")
CLUSTER, SITE, DNS, RESOLVER, LINK, VNET, ENDPOINT, SCOPE = range(len(COLUMNS))
SITE_LIMIT = 40  # more sites than this: sites with the same path are drawn as one node
NAMED_CLUSTERS = 3  # a group of more clusters than this (same site, same path) is one node with a count

ADMITTED, REFUSED, DNS_WRONG = "admitted", "refused", "dns"
VERDICTS = {ADMITTED: "admitted", REFUSED: "refused", DNS_WRONG: "DNS wrong"}

# Where a refused connection's hop sits in the picture (Hop.what names the hop's kind).
_HOP_COLUMN = {"route": LINK, "site firewall": SITE, "internet": LINK, "private endpoint connection": ENDPOINT,
               "admission": SCOPE}


@dataclass
class Node:
    id: str
    column: int
    label: str
    kind: str  # cluster, clusters, site, sites, dns, resolver, link, vnet, endpoint, scope, public
    ref: str | None = None  # the ARM id (or cluster id) a click opens
    detail: str = ""
    clusters: int = 0  # clusters whose path runs through it
    failing: int = 0  # clusters refused at this hop


@dataclass
class Path:
    nodes: list  # node ids, left to right, ending at the failing hop when refused
    verdict: str  # ADMITTED, REFUSED, DNS_WRONG
    code: str  # Admitted or the refusal's reason code
    reason: str
    fail_at: str | None  # the node that refuses, else None
    clusters: int = 1
    cluster_ids: list = field(default_factory=list)  # the first few, for links


@dataclass
class Edge:
    source: str
    target: str
    verdict: str
    clusters: int


@dataclass
class Picture:
    nodes: dict  # id -> Node, in column order
    paths: list
    counts: dict  # verdict -> clusters
    sites_grouped: bool
    members: dict = field(default_factory=dict)  # group node id -> every cluster id it stands for
    verdicts: dict = field(default_factory=dict)  # cluster id (lower case) -> its verdict

    def edges(self) -> list[Edge]:
        """One edge per pair of neighbouring nodes and verdict, with the clusters that take it."""
        table: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        for p in self.paths:
            for a, b in zip(p.nodes, p.nodes[1:]):
                table[(a, b, p.verdict)] = table.get((a, b, p.verdict), 0) + p.clusters
        return [Edge(a, b, v, n) for (a, b, v), n in table.items()]

    def column(self, col: int) -> list[Node]:
        return [n for n in self.nodes.values() if n.column == col]


def _verdict(t: ClusterTrace) -> tuple[str, str, str]:
    fail = t.first_failure
    if fail is None:
        return ADMITTED, "Admitted", ""
    code, reason = fail
    if code == "DnsResolutionFailed":
        return DNS_WRONG, code, reason
    cluster = t.cluster
    # A private-link cluster that resolved public addresses went wrong in DNS, whatever refused it after.
    if cluster.private_link and any(n.resolution.rcode == "NOERROR" and n.resolution.addresses
                                    and not n.resolution.private for n in t.names):
        return DNS_WRONG, code, reason
    return REFUSED, code, reason


def _deciding(t: ClusterTrace) -> tuple[NameTrace | None, Reach | None]:
    """The name and connection that decide the verdict: the first failing one, else the first."""
    for n in t.names:
        if not n.ok:
            return n, next((r for r in n.reaches if not r.admitted), None)
    first = t.names[0] if t.names else None
    return first, (first.reaches[0] if first and first.reaches else None)


class _Builder:
    def __init__(self, ix: Index):
        self.ix = ix
        self.nodes: dict[str, Node] = {}
        self.group_sites = len(ix.sites) > SITE_LIMIT
        self.site_members: dict[str, set[str]] = {}

    def node(self, nid: str, column: int, label: str, kind: str, ref: str | None = None, detail: str = "") -> str:
        if nid not in self.nodes:
            self.nodes[nid] = Node(nid, column, label, kind, ref, detail)
        return nid

    # the fixed topology ----------------------------------------------------------------------
    def topology(self) -> None:
        for s in self.ix.scopes.values():
            self.node(f"scope:{s.id.lower()}", SCOPE, s.name, "scope", s.id,
                      f"public network access {s.spec.public_network_access}")
        for pe in self.ix.endpoints.values():
            if pe.is_arc:
                self.node(f"pe:{pe.id.lower()}", ENDPOINT, pe.name, "endpoint", pe.id, f"connection {pe.state}")
        for v in self.ix.vnets.values():
            self.node(f"vnet:{v.id.lower()}", VNET, v.name, "vnet", v.id, ", ".join(str(n) for n in v.networks))
        for f in self.ix.forwarders.values():
            self.node(f"fwd:{f.name.lower()}", RESOLVER, f.name, "resolver", f.id, f"{f.spec.kind} {f.ip}")
        if not self.group_sites:
            for site in self.ix.sites.values():
                self.site_node(site)

    def site_key(self, site: SiteR) -> str:
        if not self.group_sites:
            return site.name.lower()
        dns = site.spec.dns
        target = "none" if dns is None else (",".join(sorted(a for f in dns.conditional_forwarders for a in f.targets))
                                             or dns.upstream)
        links = ",".join(sorted(f"{t}>{v.name}" for t, v in site.connections))
        return f"{target}|{links}"

    def site_node(self, site: SiteR | None) -> str:
        if site is None:
            return self.node("site:-", SITE, "no site (internet)", "site")
        key = self.site_key(site)
        nid = f"site:{key}"
        if not self.group_sites:
            return self.node(nid, SITE, site.name, "site", None, ", ".join(str(n) for n in site.networks))
        n = self.nodes[self.node(nid, SITE, site.name, "sites", None, site.name)]
        sites = self.site_members.setdefault(nid, set())
        sites.add(site.name.lower())
        if len(sites) > 1:
            n.label, n.detail = f"{len(sites)} sites", "same DNS forwarding and links"
        return nid

    def dns_node(self, site: SiteR | None, site_id: str) -> str:
        dns = site.spec.dns if site else None
        if dns is None:
            return self.node("dns:public", DNS, "public resolver", "dns", None, "no site DNS server")
        if self.group_sites:
            return self.node(f"dns:{site_id}", DNS, "site DNS servers", "dns", None, f"upstream {dns.upstream}")
        return self.node(f"dns:{site_id}", DNS, f"DNS {dns.address}", "dns", None, f"upstream {dns.upstream}")

    def resolver_node(self, t: ClusterTrace, name: NameTrace | None) -> str | None:
        res = name.resolution if name else None
        if res is None:
            return None
        if res.forwarder:
            f = self.ix.forwarders.get(res.forwarder.lower())
            if f is not None:
                return self.node(f"fwd:{f.name.lower()}", RESOLVER, f.name, "resolver", f.id, f"{f.spec.kind} {f.ip}")
        if res.source == "public":
            return self.node("res:public", RESOLVER, "public DNS", "public", None, "public Azure Arc addresses")
        if res.source == "manual":
            return self.node("res:manual", RESOLVER, "records on the site's server", "resolver")
        if res.source == "private-zone":
            return self.node("res:zones", RESOLVER, "private DNS zones", "resolver")
        return None

    def data_path(self, t: ClusterTrace, r: Reach | None) -> list[str]:
        """Link, VNet, endpoint and scope of the connection ``r``, as far as they are known."""
        if r is None:
            return []
        if r.path == "public":
            out = [self.node("link:internet", LINK, "internet", "link"),
                   self.node("pe:public", ENDPOINT, "public Azure Arc endpoints", "public")]
            if r.scope:
                s = self.ix.scope(r.scope)
                if s is not None:
                    out.append(f"scope:{s.id.lower()}")
            return out
        hit = self.ix.endpoint_at(r.address) if r.path == "private" else None
        if hit is None:
            return [self.node("link:none", LINK, "no route", "link")]
        pe = hit[0]
        site = t.cluster.site
        out = []
        conn = next(((ty, v) for ty, v in (site.connections if site else [])
                     if v is pe.vnet or pe.vnet in v.peers), None)
        if conn is not None:
            ty, v = conn
            out.append(self.node(f"link:{ty}:{v.name.lower()}", LINK, f"{ty} to {v.name}", "link"))
        else:
            out.append(self.node("link:none", LINK, "no route", "link"))
        out.append(f"vnet:{pe.vnet.id.lower()}")
        out.append(f"pe:{pe.id.lower()}")
        if pe.scope is not None:
            out.append(f"scope:{pe.scope.id.lower()}")
        return out

    def cluster_path(self, t: ClusterTrace) -> tuple[list[str], str, str, str, int | None]:
        """(nodes after the cluster, verdict, code, reason, failing column) for one cluster."""
        verdict, code, reason = _verdict(t)
        c: ClusterR = t.cluster
        site_id = self.site_node(c.site)
        nodes = [site_id, self.dns_node(c.site, site_id)]
        name, r = _deciding(t)
        res = self.resolver_node(t, name)
        if res:
            nodes.append(res)
        fail_col: int | None = None
        if name is not None and (name.resolution.rcode != "NOERROR" or not name.reaches):
            fail_col = RESOLVER if res else DNS
        else:
            nodes += self.data_path(t, r)
            if r is not None and not r.admitted:
                fail_col = _hop_column(r)
        if verdict == DNS_WRONG:  # the answer was wrong before any connection: the DNS hop is the failing one
            fail_col = RESOLVER if res else DNS
        return nodes, verdict, code, reason, fail_col


def _hop_column(r: Reach) -> int:
    """The column of the hop that refused ``r`` (an NSG sits on the endpoint's subnet, in its VNet)."""
    bad = next((h for h in r.hops if not h.ok), None)
    if bad is None:  # refused with no failing hop recorded (no Arc endpoint there): the endpoint refuses
        return ENDPOINT
    if bad.what.startswith("NSG"):
        return VNET
    return _HOP_COLUMN.get(bad.what, ENDPOINT)


def _cut(nodes: list[str], picture_nodes: dict[str, Node], fail_col: int | None) -> tuple[list[str], str | None]:
    """The path up to its failing hop, and that hop (the last node at or before the failing column)."""
    if fail_col is None:
        return nodes, None
    kept = [n for n in nodes if picture_nodes[n].column <= fail_col]
    if not kept:
        return nodes[:1], nodes[0] if nodes else None
    return kept, kept[-1]


def picture(ix: Index, traces: Iterable[ClusterTrace] | None = None) -> Picture:
    """The picture of every cluster's path in ``ix`` (memoised on the index).

    Without ``traces`` each cluster is traced, placed in its path and its trace dropped: at 10,000
    clusters the traces together are over 100 MB, and the picture needs only their paths."""
    if traces is None:
        return ix.memo(("picture",), lambda: _picture(ix, (cluster_trace(ix, c) for c in ix.clusters.values())))
    return _picture(ix, traces)


def _group_id(key: tuple) -> str:
    """A group's node id: the same path, verdict and failing hop give the same id in every version,
    so a link to a group still names it after the model changed."""
    return "clusters:" + hashlib.sha1(repr(key).encode()).hexdigest()[:16]


def _picture(ix: Index, traces: Iterable[ClusterTrace]) -> Picture:
    b = _Builder(ix)
    b.topology()
    groups: OrderedDict[tuple, Path] = OrderedDict()
    members: dict[tuple, list[ClusterR]] = {}
    for t in traces:
        nodes, verdict, code, reason, fail_col = b.cluster_path(t)
        nodes, fail_at = _cut(nodes, b.nodes, fail_col)
        key = (tuple(nodes), verdict, code, fail_at)
        if key not in groups:
            groups[key] = Path(nodes, verdict, code, reason, fail_at, 0)
            members[key] = []
        groups[key].clusters += 1
        members[key].append(t.cluster)
    paths: list[Path] = []
    counts = {v: 0 for v in VERDICTS}
    grouped: dict[str, list[str]] = {}
    verdicts: dict[str, str] = {}
    for key, p in groups.items():
        cl = members[key]
        where = b.nodes[p.fail_at] if p.fail_at else None
        told = VERDICTS[p.verdict] + (f" at {NOUNS[where.column]} {where.label} ({p.code})" if where else "")
        if len(cl) <= NAMED_CLUSTERS:
            for c in cl:
                nid = b.node(f"cluster:{c.id.lower()}", CLUSTER, c.name, "cluster", c.id, told)
                paths.append(Path([nid, *p.nodes], p.verdict, p.code, p.reason, p.fail_at, 1, [c.id]))
        else:
            site = b.nodes[p.nodes[0]].label if p.nodes else "no site"
            nid = b.node(_group_id(key), CLUSTER, f"{len(cl)} clusters", "clusters", None, f"{site}: {told}")
            paths.append(Path([nid, *p.nodes], p.verdict, p.code, p.reason, p.fail_at, len(cl),
                              [c.id for c in cl[:20]]))
            grouped[nid] = [c.id for c in cl]
        counts[p.verdict] += len(cl)
        verdicts.update((c.id.lower(), p.verdict) for c in cl)
    for p in paths:
        for nid in p.nodes:
            b.nodes[nid].clusters += p.clusters
        if p.fail_at:
            b.nodes[p.fail_at].failing += p.clusters
    ordered = dict(sorted(b.nodes.items(), key=lambda kv: kv[1].column))
    return Picture(ordered, paths, counts, b.group_sites, grouped, verdicts)


__all__ = ["ADMITTED", "COLUMNS", "DNS_WRONG", "Edge", "NOUNS", "Node", "Path", "Picture", "REFUSED", "SITE_LIMIT",
           "VERDICTS", "picture"]
