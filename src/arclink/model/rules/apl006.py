"""APL006: the scope and the virtual network of its private endpoint are in different regions (warning).

The seed contradicts itself here: one sentence puts cluster, scope and virtual network in one
region, the next lets the private endpoint and its virtual network be in another region than
the scope. Neither the CLI nor ARM checks it, so this is a warning that explains both readings.
Reported on the private endpoint (it is what joins the scope to the virtual network).
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL006",
    name="scope-vnet-region-differs",
    severity="warning",
    summary="The scope and the virtual network of its private endpoint are in different regions; the page allows and forbids it.",
    seed="The Azure Arc-enabled Kubernetes cluster, Azure Arc Private Link Scope, and virtual network must be in the "
         "same Azure region. The Private Endpoint and the virtual network must also be in the same Azure region, but "
         "this region can be different from that of your Azure Arc Private Link Scope and Arc-enabled Kubernetes cluster.",
    fix="Prefer one region for the scope, its clusters and the private endpoint's virtual network; if you keep "
        "different regions, test onboarding end to end, because the page both requires and allows it.",
)


def check(ix: Index) -> Iterator[Finding]:
    for scope in ix.scopes.values():
        for pe in scope.endpoints:
            vnet = pe.vnet
            if vnet is None or vnet.location == scope.location:
                continue
            yield finding(RULE, pe, f"private endpoint {shown(pe)} joins scope {shown(scope)} ('{scope.location}') to "
                                    f"virtual network {shown(vnet)} in another region ('{vnet.location}').",
                          related=[scope, vnet])
