"""Shared pieces of the private-path rules (APL015, APL016, APL020, APL023-APL025).

Everything here works per site, never per cluster: clusters are grouped by
(site, scope) once per index, and names are resolved through
``model.trace.site_resolution`` (memoised per site and name), so a plan with
100k clusters over 1k sites costs about 1k x (number of names) resolutions.
"""

from __future__ import annotations

from typing import Iterable

from arclink.model import catalogue as cat
from arclink.model.index import ClusterR, Index, PeR, ScopeR, SiteR
from arclink.model.reach import endpoint_at
from arclink.model.resolve import Resolution, site_reaches
from arclink.model.steps import Failure
from arclink.model.trace import agent_names, site_resolution
from arclink.model.resolved import shown


def pl_groups(ix: Index) -> dict[tuple[SiteR | None, ScopeR], list[ClusterR]]:
    """Private-link clusters by (site, scope), in declaration order; memoised on the index."""
    def group() -> dict[tuple[SiteR | None, ScopeR], list[ClusterR]]:
        out: dict[tuple[SiteR | None, ScopeR], list[ClusterR]] = {}
        for c in ix.clusters.values():
            if c.private_link and c.scope is not None:
                out.setdefault((c.site, c.scope), []).append(c)
        return out

    return ix.memo(("private-path", "pl_groups"), group)


def arc_endpoints(scope: ScopeR) -> list[PeR]:
    return [pe for pe in scope.endpoints if pe.is_arc]


def expected_addresses(scope: ScopeR, fqdn: str) -> set[str]:
    """The private addresses ``fqdn`` may resolve to: its record on any of the scope's endpoints."""
    return {a for a in (pe.address_of(fqdn) for pe in arc_endpoints(scope)) if a}


def names_for(clusters: Iterable[ClusterR]) -> list[str]:
    """The seed's three troubleshooting names, then the regional agent names of the clusters' scopes.

    The scope's region, not the cluster's: the endpoint's DNS configuration carries the scope's
    names (``index.endpoint_service_region``), and a cluster in another region than its scope is
    APL004's finding (the CLI refuses it), not a DNS one."""
    out = list(cat.SEED_CHECK_NAMES)
    for loc in dict.fromkeys(c.scope.location if c.scope else c.location for c in clusters):
        out += [n for n in agent_names(loc) if n not in out]
    return out


def endpoint_for_site(site: SiteR | None, scope: ScopeR) -> PeR | None:
    """The scope's endpoint a site would use: the first one it can route to, else the first one."""
    eps = arc_endpoints(scope)
    if site is not None:
        for pe in eps:
            if site_reaches(site, pe.vnet):
                return pe
    return eps[0] if eps else None


def chain(res: Resolution) -> str:
    """The servers a query went through and what the last one did: where it went wrong."""
    servers: list[str] = []
    for s in res.steps:
        # "DNS server X" then "DNS server X (recursion)" is one server doing two things: keep the fuller name.
        if servers and s.server.startswith(servers[-1]):
            servers[-1] = s.server
        elif s.server not in servers:
            servers.append(s.server)
    last = res.steps[-1].action if res.steps else "no answer"
    return f"{' -> '.join(servers)}: {last}" if servers else last


def outcome(ix: Index, res: Resolution) -> str:
    """What a name resolved to, in a few words (public address, NXDOMAIN, timeout, address)."""
    if res.rcode != "NOERROR":
        return "times out" if res.failure is Failure.TIMEOUT else res.rcode
    addrs = res.addresses
    if not addrs:
        return "no address (NODATA)"
    public = resolves_public(res)
    if public:
        return f"public address {public[0]}"
    hit = endpoint_at(ix, addrs[0])
    if hit is not None:
        pe = hit[0]
        owner = f"private endpoint {shown(pe)}" + (f" of scope {shown(pe.scope)}" if pe.scope else "")
        return f"{addrs[0]} ({owner})"
    return f"{addrs[0]} (no private endpoint)"


def name_ok(ix: Index, site: SiteR | None, scope: ScopeR, fqdn: str) -> tuple[bool, Resolution]:
    """Does ``fqdn`` resolve, from ``site``, to the scope's own private endpoint record only?"""
    res = site_resolution(ix, site, fqdn)
    want = expected_addresses(scope, fqdn)
    addrs = res.addresses
    ok = res.rcode == "NOERROR" and bool(addrs) and set(addrs) <= want
    return ok, res


def resolves_public(res: Resolution) -> list[str]:
    return [a for a in res.addresses if not cat.is_private(a)]


def manual_zone(site: SiteR | None, zone: cat.ArcZone) -> bool:
    """Does the site's own DNS server answer for this Arc zone (manual DNS: hosted zone or records)?"""
    dns = site.spec.dns if site is not None else None
    if dns is None:
        return False
    names = (zone.public_zone, zone.private_zone)
    for h in dns.zones:
        h = h.rstrip(".").lower()
        if any(n == h or n.endswith("." + h) or h.endswith("." + n) for n in names):
            return True
    for r in dns.records:
        n = r.name.rstrip(".").lower()
        if cat.arc_zone_for(n) is zone:
            return True
    return False


def seed_name_in(zone: cat.ArcZone) -> str:
    """The seed's troubleshooting name that lives in ``zone``."""
    return next(n for n in cat.SEED_CHECK_NAMES if cat.arc_zone_for(n) is zone)
