"""APL015: a site with private-link clusters reaches its scope's private endpoint over VPN or ExpressRoute."""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index
from arclink.model.resolve import site_reaches
from arclink.model.rules import Finding, Rule, finding
from arclink.model.rules._private_path import arc_endpoints, pl_groups
from arclink.model.rules._text import quoted

RULE = Rule(
    id="APL015",
    name="site-reaches-endpoint-vnet",
    severity="error",
    summary="Every site with private-link clusters has a site-to-site VPN or ExpressRoute path to the virtual "
            "network of its scope's private endpoint.",
    seed="Establish a connection between your on-premises network and an Azure virtual network using a "
         "[site-to-site VPN](/azure/vpn-gateway/tutorial-site-to-site-portal) or "
         "[ExpressRoute](/azure/expressroute/expressroute-howto-linkvnet-arm) circuit.",
    fix="Connect the site to the private endpoint's virtual network: add a connection (type SiteToSiteVPN or "
        "ExpressRoute) to that virtual network, or to a virtual network peered with it, under the site's connections.",
)


def check(ix: Index) -> Iterator[Finding]:
    for (site, scope), clusters in pl_groups(ix).items():
        eps = arc_endpoints(scope)
        if not eps:
            continue  # nothing to reach yet; APL016 says the names cannot resolve privately
        if site is None:
            for c in clusters:
                yield finding(RULE, c, f"cluster '{c.name}' uses private link scope '{scope.name}' but names no site, so "
                                       f"nothing connects it to virtual network '{eps[0].vnet.name}' of private endpoint "
                                       f"'{eps[0].name}'.", related=[scope, eps[0]])
            continue
        if any(site_reaches(site, pe.vnet) for pe in eps):
            continue
        have = ", ".join(f"{t} to '{v.name}'" for t, v in site.connections) or "none"
        targets = " or ".join(f"'{pe.vnet.name}' (private endpoint '{pe.name}')" for pe in eps)
        yield finding(RULE, site, f"site '{site.name}' runs private-link clusters {quoted(clusters)} of scope "
                                  f"'{scope.name}' but has no site-to-site VPN or ExpressRoute path to {targets}, "
                                  f"directly or through peering (its connections: {have}).",
                      related=[scope, *eps, *clusters])
