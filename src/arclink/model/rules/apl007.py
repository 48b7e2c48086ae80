"""APL007: during the preview, the virtual network and the clusters are in the scope's subscription.

Checked for the virtual network of every private endpoint of a scope (reported on the virtual
network, once per scope) and for every cluster associated with a scope (reported on the
cluster). The CLI does not enforce it (reference/cli-and-agents.md §1.2 step 5); the portal's
"Azure Arc resources" blade only lists clusters of the scope's subscription and region.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL007",
    name="scope-subscription",
    severity="error",
    summary="During the preview, the private endpoint's virtual network and the clusters are in the scope's subscription.",
    seed="During the preview, your virtual network and Azure Arc-enabled Kubernetes clusters must be in the same "
         "subscription as the Azure Arc Private Link Scope.",
    fix="Create the scope in the subscription of the virtual network and the clusters, or move the virtual network "
        "(az resource move) and reconnect the clusters in the scope's subscription.",
)


def check(ix: Index) -> Iterator[Finding]:
    for scope in ix.scopes.values():
        seen = []
        for pe in scope.endpoints:
            vnet = pe.vnet
            if vnet is None or vnet in seen:
                continue
            seen.append(vnet)
            if vnet.subscription.lower() != scope.subscription.lower():
                yield finding(RULE, vnet, f"virtual network {shown(vnet)} (private endpoint {shown(pe)}) is in "
                                          f"subscription '{vnet.subscription}', not in subscription "
                                          f"'{scope.subscription}' of scope {shown(scope)}.", related=[scope, pe])
        for c in ix.clusters_in(scope):
            if c.subscription.lower() != scope.subscription.lower():
                yield finding(RULE, c, f"cluster {shown(c)} is in subscription '{c.subscription}', not in subscription "
                                       f"'{scope.subscription}' of its scope {shown(scope)}.", related=[scope])
