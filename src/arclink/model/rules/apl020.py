"""APL020: public network access of the scope.

``publicNetworkAccess: Disabled`` means private only (the API's meaning; the portal step in
the page describes the opposite): a private-link cluster whose site has no private path (it
cannot route to the endpoint, or its Arc names resolve to public addresses) is refused.
``Enabled`` is a warning: clusters may also talk to Azure Arc over public networks.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import ClusterR, Index, ScopeR, SiteR
from arclink.model.reach import reach
from arclink.model.resolve import site_reaches
from arclink.model.rules import Finding, Rule, finding
from arclink.model.rules._private_path import arc_endpoints, names_for, pl_groups, resolves_public
from arclink.model.rules._text import quoted
from arclink.model.trace import site_resolution
from arclink.model.resolved import shown

RULE = Rule(
    id="APL020",
    name="public-network-access",
    severity="error",
    summary="publicNetworkAccess Disabled refuses private-link clusters without a private path (error); Enabled lets "
            "data leave over public networks (warning).",
    seed="To require every Arc-enabled Kubernetes cluster associated with this Azure Arc Private Link Scope to send data "
         "to the service through the private endpoint, select **Allow public network access**. If you do so, Kubernetes "
         "clusters associated with this Azure Arc Private Link Scope can communicate with the service over both private "
         "or public networks.",
    fix="Keep publicNetworkAccess Disabled on the scope (az resource update --ids <scope id> --set "
        "properties.publicNetworkAccess=Disabled) and give every private-link site a private path: a VPN or "
        "ExpressRoute connection to the endpoint's virtual network and DNS that resolves the Arc names to the endpoint.",
    policy="Azure Arc Private Link Scopes should disable public network access",
)


def no_private_path(ix: Index, site: SiteR | None, scope: ScopeR, clusters: list[ClusterR]) -> str | None:
    """Why the site's clusters have no private path to the scope, or None when they have one."""
    eps = arc_endpoints(scope)
    if site is None:
        return "they name no site"
    if not eps:
        return f"scope {shown(scope)} has no private endpoint"
    if not any(site_reaches(site, pe.vnet) for pe in eps):
        return f"site '{site.name}' has no VPN or ExpressRoute path to {quoted([pe.vnet for pe in eps])}"
    for fqdn in names_for(clusters):
        res = site_resolution(ix, site, fqdn)
        public = resolves_public(res)
        if public:
            r = reach(ix, clusters[0], public[0], fqdn)
            refused = "" if r.admitted else f", refused there with {r.code}"
            return f"{fqdn} resolves to public address {public[0]}{refused}"
    return None


def check(ix: Index) -> Iterator[Finding]:
    groups = pl_groups(ix)
    by_scope: dict = {}
    for (site, scope), clusters in groups.items():
        by_scope.setdefault(scope, []).append((site, clusters))
    for scope in ix.scopes.values():
        disabled = scope.spec.public_network_access == "Disabled"
        public_sites = []
        for site, clusters in by_scope.get(scope, []):
            why = no_private_path(ix, site, scope, clusters)
            if why is None:
                continue
            if disabled and site is None:
                for c in clusters:
                    yield finding(RULE, c, f"private-link cluster {shown(c)} names no site, so it has no private path to "
                                           f"scope {shown(scope)}, and the scope's publicNetworkAccess is Disabled: its "
                                           "connections are refused.", related=[scope])
            elif disabled:
                yield finding(RULE, site, f"private-link clusters {quoted(clusters)} at site '{site.name}' have no private "
                                          f"path to scope {shown(scope)} ({why}), and the scope's publicNetworkAccess is "
                                          "Disabled, so their connections are refused.",
                              related=[scope, *clusters])
            else:
                public_sites.append(site.name if site else clusters[0].name)
        if not disabled:
            extra = (f"; clusters at {quoted(public_sites)} have no private path, so they can only use the public endpoints"
                     if public_sites else "")
            yield finding(RULE, scope, f"private link scope {shown(scope)} has publicNetworkAccess Enabled: its clusters "
                                       f"can also reach Azure Arc over public networks, so data may leave over public "
                                       f"networks{extra}.", severity="warning")
