"""APL016: from each site, the Arc names resolve to the private endpoint's private addresses.

The seed's troubleshooting check (``nslookup`` of its three names), run for every site
with private-link clusters, plus the regional agent names of the clusters' regions.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.rules._private_path import (arc_endpoints, chain, endpoint_for_site, name_ok, names_for, outcome,
                                               pl_groups)
from arclink.model.rules._text import plural, quoted
from arclink.model.resolved import shown

RULE = Rule(
    id="APL016",
    name="arc-names-resolve-private",
    severity="error",
    summary="From every site with private-link clusters, the Arc names resolve to the private addresses of the "
            "scope's private endpoint.",
    seed="Check your on-premises DNS server to verify that it's either forwarding to Azure DNS, or is configured with "
         "appropriate A records in your private link zone. These lookup commands should return private IP addresses "
         "in your Azure virtual network. If they resolve public IP addresses, double check your server and network's "
         "DNS configuration.",
    fix="Make the site's DNS server answer the Arc names with the private endpoint's addresses: add conditional "
        "forwarders for his.arc.azure.com, guestconfiguration.azure.com and dp.kubernetesconfiguration.azure.com to a "
        "DNS forwarder in Azure (DNS private resolver inbound endpoint, forwarder VM or Azure Firewall DNS proxy) whose "
        "virtual network is linked to the private DNS zones, or host the A records of the endpoint's DNS configuration "
        "on the site's DNS server.",
)


def check(ix: Index) -> Iterator[Finding]:
    for (site, scope), clusters in pl_groups(ix).items():
        if site is None:
            continue  # no site, no DNS server to check (APL015 reports such clusters)
        eps = arc_endpoints(scope)
        if not eps:
            yield finding(RULE, site, f"scope {shown(scope)} of clusters {quoted(clusters)} at site '{site.name}' has no "
                                      "private endpoint, so no Arc name can resolve to a private address.",
                          related=[scope, *clusters])
            continue
        bad = []
        for fqdn in names_for(clusters):
            ok, res = name_ok(ix, site, scope, fqdn)
            if not ok:
                bad.append((fqdn, res))
        if not bad:
            continue
        pe = endpoint_for_site(site, scope)
        assert pe is not None  # the scope has endpoints (checked above)
        listed = "; ".join(f"{fqdn} -> {outcome(ix, res)}" for fqdn, res in bad[:4])
        more = f"; and {plural(len(bad) - 4, 'more name')}" if len(bad) > 4 else ""
        first = bad[0][1]
        verb = "does" if len(bad) == 1 else "do"
        yield finding(RULE, site, f"from site '{site.name}' (clusters {quoted(clusters)}), {plural(len(bad), 'Arc name')} {verb} not "
                                  f"resolve to private endpoint {shown(pe)} of scope {shown(scope)}: {listed}{more}; "
                                  f"the chain for {bad[0][0]}: {chain(first)}.",
                      related=[scope, pe, *clusters])
