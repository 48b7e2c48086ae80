"""APL011: extensions that use other Azure services need those services' private endpoints (warning).

For each private-link cluster with an extension listed in ``catalogue.EXTENSION_DEPENDENCIES``
(Azure Monitor -> ``Microsoft.Insights/privateLinkScopes``), some private endpoint to that
resource type must sit in a virtual network the cluster's site reaches (connected, or peered
with a connected one). Sites are evaluated once each.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model import catalogue as cat
from arclink.model.index import Index, SiteR
from arclink.model.resolve import site_reaches
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL011",
    name="extension-service-endpoints",
    severity="warning",
    summary="A private-link cluster with Azure Monitor reaches a private endpoint of an Azure Monitor Private Link Scope.",
    seed="Other Azure services that you use, such as Azure Monitor, may require their own private endpoints in your "
         "virtual network.",
    fix="Deploy a private endpoint for the service the extension uses (for Azure Monitor: an Azure Monitor Private "
        "Link Scope with its private endpoint, group id azuremonitor) in a virtual network the site reaches.",
)


def _reachable_types(ix: Index, site: SiteR | None) -> set[str]:
    """Resource types of the approved private endpoints the site reaches; memoised per site."""
    def compute() -> set[str]:
        hit: set[str] = set()
        if site is not None:
            vnets = {v for _, v in site.connections}
            vnets |= {p for v in list(vnets) for p in v.peers}
            for v in vnets:
                for pe in v.endpoints:
                    if pe.state == "Approved" and site_reaches(site, v):
                        hit.add(pe.target_type.lower())
        return hit

    return ix.memo(("apl011", site.name.lower() if site else ""), compute)


def check(ix: Index) -> Iterator[Finding]:
    for c in ix.clusters.values():
        if not c.private_link:
            continue
        needs: dict[tuple[str, str], list[str]] = {}
        for ext in c.spec.extensions:
            dep = cat.EXTENSION_DEPENDENCIES.get(ext.lower())
            if dep:
                needs.setdefault(dep, []).append(ext)
        if not needs:
            continue
        have = _reachable_types(ix, c.site)
        for (rtype, label), exts in needs.items():
            if rtype.lower() in have:
                continue
            where = f"site '{c.site.name}'" if c.site else "its network"
            yield finding(RULE, c, f"cluster {shown(c)} runs {', '.join(exts)}, but {where} reaches no approved private "
                                   f"endpoint of an {label} ({rtype}).", related=[c.site])
