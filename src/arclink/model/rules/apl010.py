"""APL010: private-link and non-private-link Arc clusters never share DNS; non-private-link ones resolve public.

Two findings:

* a DNS server (a site's ``dns.address``; several sites may share one) that serves both
  private-link and non-private-link clusters: reported on each site behind that server that
  has clusters;
* a non-private-link cluster whose site does not resolve every Arc name to a public address
  (a private address, or an NXDOMAIN from a private zone or manual zone): reported on the
  cluster, unless its site is already reported for the first reason (same fix).

The site's resolution comes from ``model.trace`` (once per site and region). On-premises
clusters live in sites, not in Azure virtual networks, so "the same VNET" is read as "the same
DNS path": a private zone linked to a VNet reaches a cluster only through its site's DNS.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index, SiteR
from arclink.model.rules import Finding, Rule, finding
from arclink.model.rules._landing import clusters_by_site_and_region, landing
from arclink.model.rules._text import quoted
from arclink.model.resolved import shown

RULE = Rule(
    id="APL010",
    name="no-mixed-private-link-dns",
    severity="error",
    summary="Private-link and non-private-link Arc clusters do not share a DNS server or zone; non-private-link clusters resolve public endpoints.",
    seed="Azure Arc resources utilizing Private Link and those that do not cannot share the same VNET or DNS zone. "
         "Azure Arc resources without Private Link must resolve to public endpoints.",
    fix="Give non-private-link clusters a DNS server that resolves the Arc names (his.arc.azure.com, "
        "guestconfiguration.azure.com, dp.kubernetesconfiguration.azure.com) publicly, or enable private link on them "
        "(az connectedk8s connect --enable-private-link true --private-link-scope-resource-id <id>).",
)


def check(ix: Index) -> Iterator[Finding]:
    by_server: dict[str, list[SiteR]] = {}
    for each in ix.sites.values():
        if ix.clusters_in(each) and each.spec.dns is not None:
            by_server.setdefault(each.spec.dns.address, []).append(each)
    mixed_sites: set[SiteR] = set()
    for address, sites in by_server.items():
        pl = [c for s in sites for c in ix.clusters_in(s) if c.private_link]
        non = [c for s in sites for c in ix.clusters_in(s) if not c.private_link]
        if not pl or not non:
            continue
        for s in sites:
            mixed_sites.add(s)
            yield finding(RULE, s, f"DNS server {address} of site '{s.name}' serves private-link cluster(s) "
                                   f"{quoted(pl, 3)} and non-private-link cluster(s) {quoted(non, 3)}.",
                          related=pl[:3] + non[:3])
    non_pl = [c for c in ix.clusters.values() if not c.private_link and c.site is not None and c.site not in mixed_sites]
    for (site, location), clusters in clusters_by_site_and_region(non_pl).items():
        assert site is not None  # non_pl holds clusters with a site only
        land = landing(ix, site, location)
        private = land.private_names
        other = [n for n in land.non_public_names if n not in private]
        if not private and not other:
            continue
        how = []
        if private:
            how.append(f"resolves {quoted(private, 2)} to private addresses")
        if other:
            how.append(f"does not resolve {quoted(other, 2)} to public addresses")
        for c in clusters:
            yield finding(RULE, c, f"cluster {shown(c)} does not use private link, but its site '{site.name}' "
                                   f"{' and '.join(how)}.", related=[site])
