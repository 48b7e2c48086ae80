"""APL015: a site with private-link clusters reaches its scope's private endpoint over VPN or ExpressRoute.

Through a peering only with gateway transit (``model.transit``): where the site lands on a VNet
peered with the endpoint's, the finding names the peering side and the flag it lacks. Where Azure
would refuse that flag (the endpoint's VNet has a gateway of its own, or already uses another
peering's), the fix is to connect the site to the endpoint's VNet instead.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index
from arclink.model.resolve import site_reaches
from arclink.model.rules import Finding, Rule, finding
from arclink.model.rules._private_path import arc_endpoints, pl_groups
from arclink.model.rules._text import quoted
from arclink.model.transit import MissingFlag, blocked_transit, remote_gateways_refused

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
        "ExpressRoute) to that virtual network, or to a virtual network peered with it, under the site's connections. "
        "Through a peering, the landing virtual network's side sets allowGatewayTransit and the endpoint virtual "
        "network's side sets useRemoteGateways.",
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
        gaps = [(kind, v, pe, missing) for pe in eps for kind, v, missing in blocked_transit(site, pe.vnet)]
        if gaps:
            why = "; ".join(f"{kind} lands on '{v.name}', peered with '{pe.vnet.name}' without gateway transit: "
                            + " and ".join(m.describe() for m in missing) for kind, v, pe, missing in gaps)
            yield finding(RULE, site, f"site '{site.name}' runs private-link clusters {quoted(clusters)} of scope "
                                      f"'{scope.name}' but cannot reach {targets}: {why}.",
                          fix=_transit_fix(ix, site.name, [m for _, _, _, missing in gaps for m in missing]),
                          related=[scope, *eps, *clusters, *{id(v): v for _, v, _, _ in gaps}.values()])
            continue
        yield finding(RULE, site, f"site '{site.name}' runs private-link clusters {quoted(clusters)} of scope "
                                  f"'{scope.name}' but has no site-to-site VPN or ExpressRoute path to {targets}, "
                                  f"directly or through peering (its connections: {have}).",
                      related=[scope, *eps, *clusters])


def _transit_fix(ix: Index, site: str, missing: list[MissingFlag]) -> str:
    """Set the flags a peering lacks, unless Azure would refuse useRemoteGateways on that side."""
    steps, instead = [], []
    for m in missing:
        refused = remote_gateways_refused(ix, m.vnet) if m.flag == "useRemoteGateways" else None
        if refused is None:
            steps.append(f"set {m.flag}: true on the peering of '{m.vnet.name}' with '{m.peer.name}'")
        else:
            instead.append(f"'{m.vnet.name}' cannot set useRemoteGateways (it {refused}), so add a connection "
                           f"from site '{site}' to '{m.vnet.name}' itself")
    if instead:
        return "; ".join(instead) + "."
    return "Under virtualNetworks[].peerings, " + "; ".join(steps) + "."
