"""APL002: an Arc-enabled Kubernetes cluster connects to only one Azure Arc Private Link Scope.

A cluster names one scope (``privateLinkScopeResourceId``), but where it actually connects is
decided by DNS: each Arc name, resolved from the cluster's site, lands on some private endpoint.
The rule fires when those names land on endpoints of two or more scopes, or on a scope other
than the one the cluster names. Clusters are grouped by site and region, so each site is
resolved once.

Reported on the site once when every cluster of the site is affected (the fix is the site's
DNS), otherwise on each affected cluster.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from arclink.model import catalogue as cat
from arclink.model.index import ClusterR, Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.rules._landing import Landing, clusters_by_site_and_region, landing
from arclink.model.rules._text import quoted
from arclink.model.resolved import shown

RULE = Rule(
    id="APL002",
    name="one-scope-per-cluster",
    severity="error",
    summary="An Arc-enabled Kubernetes cluster's Arc names all lead to the one Azure Arc Private Link Scope it is associated with.",
    seed="An Azure Arc-enabled Kubernetes cluster can only connect to one Azure Arc Private Link Scope.",
    fix="Point every Arc DNS zone (his, guestconfiguration, dp) of the site at the private endpoint of the scope the "
        "cluster is associated with, or associate the cluster with the scope its names resolve to.",
)


def _zones(names: Iterable[str]) -> str:
    """The Arc zones (his, guestconfiguration, dp) a list of names belongs to."""
    zones = (cat.arc_zone_for(n) for n in names)
    return ", ".join(dict.fromkeys(z.key for z in zones if z is not None))


def problem(cluster: ClusterR, land: Landing) -> str | None:
    """Why ``cluster`` (seen through its site's ``land``) reaches more than its one scope, or None."""
    scopes = land.scopes
    if len(scopes) > 1:
        parts = "; ".join(f"{_zones(land.names_of_scope(s))} -> scope '{s.name}'" for s in scopes)
        return f"resolves its Arc names to private endpoints of {len(scopes)} Azure Arc Private Link Scopes ({parts})"
    if len(scopes) == 1 and cluster.scope is not None and scopes[0] is not cluster.scope:
        return (f"is associated with scope {shown(cluster.scope)} but resolves its Arc names to private endpoint "
                f"{quoted(land.endpoints)} of scope {shown(scopes[0])}")
    return None


def check(ix: Index) -> Iterator[Finding]:
    pl_clusters = [c for c in ix.clusters.values() if c.private_link and c.site is not None]
    per_site: dict = {}
    for (site, location), clusters in clusters_by_site_and_region(pl_clusters).items():
        land = landing(ix, site, location)
        for c in clusters:
            why = problem(c, land)
            if why:
                per_site.setdefault(site, []).append((c, why))
    for site, hits in per_site.items():
        reasons = {why for _, why in hits}
        if len(hits) > 1 and len(hits) == len(ix.clusters_in(site)) and len(reasons) == 1:
            yield finding(RULE, site, f"all {len(hits)} clusters of site '{site.name}' "
                                      f"({quoted([c for c, _ in hits])}) are affected: each {reasons.pop()}.",
                          related=[c for c, _ in hits])
            continue
        for c, why in hits:
            yield finding(RULE, c, f"cluster {shown(c)} at site '{site.name}' {why}.",
                          related=[site])
