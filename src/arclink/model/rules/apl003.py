"""APL003: all on-premises clusters of a scope use the same private endpoint via the same DNS forwarder.

For each Azure Arc Private Link Scope, the sites of its private-link clusters are compared by
what their DNS does with the Arc names: which private endpoint(s) of the scope the names land
on and which DNS forwarder in Azure (``Resolution.forwarder``, or manual records) answered.
The most common combination (by number of clusters, ties to the earliest site) is taken as the
scope's; every site that differs is reported, as is a site whose own names are split over
several endpoints or forwarders. Sites whose names reach no endpoint of the scope are left to
APL016 (names must resolve to the endpoint) and APL002 (other scopes).
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index, PeR
from arclink.model.rules import Finding, Rule, finding
from arclink.model.rules._landing import clusters_by_site_and_region, landing
from arclink.model.rules._text import quoted
from arclink.model.resolved import shown

RULE = Rule(
    id="APL003",
    name="same-endpoint-same-forwarder",
    severity="error",
    summary="All on-premises clusters of a scope resolve the Arc names to the same private endpoint through the same DNS forwarder.",
    seed="All on-premises Kubernetes clusters need to use the same private endpoint by resolving the correct private "
         "endpoint information (FQDN record name and private IP address) using the same DNS forwarder.",
    fix="Configure every site's DNS server to forward the Arc zones (his.arc.azure.com, guestconfiguration.azure.com, "
        "dp.kubernetesconfiguration.azure.com) to the same DNS forwarder, which resolves them to the same private endpoint.",
)


def _describe(sig: tuple[tuple[PeR, ...], tuple[str, ...]]) -> str:
    endpoints, forwarders = sig
    fw = ", ".join(f if f.startswith("(") else f"'{f}'" for f in forwarders)
    return f"private endpoint {quoted(endpoints)} via {fw}"


def check(ix: Index) -> Iterator[Finding]:
    for scope in ix.scopes.values():
        clusters = [c for c in ix.clusters_in(scope) if c.private_link and c.site is not None]
        if not clusters:
            continue
        # site -> signature (endpoints of this scope, forwarders), cluster count
        sigs: dict = {}
        counts: dict = {}
        for (site, location), group in clusters_by_site_and_region(clusters).items():
            land = landing(ix, site, location)
            eps = tuple(pe.name for pe in land.endpoints if pe.scope is scope)
            if not eps:
                continue
            sig = (eps, tuple(land.forwarders_for(scope)))
            prev = sigs.get(site)
            if prev is not None and prev != sig:
                # clusters of one site in two regions that resolve differently: merge what they use
                sig = (tuple(dict.fromkeys(prev[0] + sig[0])), tuple(dict.fromkeys(prev[1] + sig[1])))
            sigs[site] = sig
            counts[site] = counts.get(site, 0) + len(group)
        if not sigs:
            continue
        weight: dict = {}
        for site, sig in sigs.items():
            weight[sig] = weight.get(sig, 0) + counts[site]
        # max() keeps the first of equal weights: insertion order is site declaration order
        majority = max(weight, key=lambda s: weight[s])
        for site, sig in sigs.items():
            split = len(sig[0]) > 1 or len(sig[1]) > 1
            if sig == majority and not split:
                continue
            if sig == majority:
                msg = (f"site '{site.name}' splits the Arc names of scope {shown(scope)} over {_describe(sig)}; "
                       f"every name should use one private endpoint through one DNS forwarder.")
            else:
                msg = (f"site '{site.name}' resolves the Arc names of scope {shown(scope)} to {_describe(sig)}, "
                       f"while {weight[majority]} other cluster(s) of the scope use {_describe(majority)}.")
            yield finding(RULE, site, msg, related=[scope])
