"""APL023: a cluster that resolves a scope's private endpoint must be associated with that scope.

Clusters are grouped by what decides the answer (site, region, scope, privateLinkState), and
``model.reach.reach()`` judges one representative connection per group and resolved address.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import ClusterR, Index
from arclink.model.reach import Reach, endpoint_at, reach
from arclink.model.rules import Finding, Rule, finding
from arclink.model.trace import agent_names, site_resolution
from arclink.model.resolved import shown

RULE = Rule(
    id="APL023",
    name="resolver-implies-association",
    severity="error",
    summary="Every cluster whose DNS resolves a scope's private endpoint is associated with that scope, with private "
            "link enabled.",
    seed="Every Kubernetes cluster that uses this DNS server now resolves the private endpoint IP addresses and must be "
         "associated with the Azure Arc Private Link Scope, or the connection will be refused.",
    fix="Associate the cluster with the scope its DNS resolves (az connectedk8s connect ... --enable-private-link true "
        "--private-link-scope-resource-id <scope id>, or the scope's Azure Arc resources > Add), or move it to a site "
        "whose DNS server resolves the Arc names publicly.",
)

REFUSALS = ("ClusterNotAssociatedWithScope", "PrivateLinkNotEnabledForCluster")


def _refusal(ix: Index, rep: ClusterR) -> tuple[str, str, Reach] | None:
    """(fqdn, address, Reach) of the first refused connection of ``rep``, or None."""
    for fqdn in agent_names(rep.location):
        res = site_resolution(ix, rep.site, fqdn)
        for address in res.addresses:
            if endpoint_at(ix, address) is None:
                continue
            r = reach(ix, rep, address, fqdn)
            if r.code in REFUSALS:
                return fqdn, address, r
    return None


def _state(c: ClusterR) -> str:
    if c.scope is None:
        return f"privateLinkState {c.spec.private_link_state}, no scope"
    return f"associated with {shown(c.scope)}, privateLinkState {c.spec.private_link_state}"


def check(ix: Index) -> Iterator[Finding]:
    groups: dict = {}
    for c in ix.clusters.values():
        if c.site is not None:
            groups.setdefault((c.site, c.location, c.scope, c.private_link), []).append(c)
    for clusters in groups.values():
        hit = _refusal(ix, clusters[0])
        if hit is None:
            continue
        fqdn, address, r = hit
        for c in clusters:
            yield finding(RULE, c, f"cluster {shown(c)} at site '{c.site.name}' resolves {fqdn} to {address}, private "
                                   f"endpoint '{r.endpoint}' of scope '{r.scope}', but it is not allowed there "
                                   f"({_state(c)}): the connection is refused ({r.code}).",
                          related=[x for x in (ix.endpoints.get((r.endpoint or "").lower()), ix.scope(r.scope)) if x])
