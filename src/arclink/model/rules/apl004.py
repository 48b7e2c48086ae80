"""APL004: an Arc-enabled Kubernetes cluster and its Azure Arc Private Link Scope are in the same region.

Write-time helper for the emulator (no index needed):

``region_mismatch(cluster_location, scope_location) -> str | None``
    The error message ``az connectedk8s connect`` raises (reference/cli-and-agents.md §1.2
    step 5) when the two locations differ (compared as ARM does: no case, no spaces), else None.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.catalogue import normalize_location
from arclink.model.index import Index
from arclink.model.onboarding import CLI_MESSAGE, region_mismatch
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL004",
    name="cluster-scope-same-region",
    severity="error",
    summary="A cluster is in the same Azure region as the Azure Arc Private Link Scope it is associated with.",
    seed="The Azure Arc-enabled Kubernetes cluster, Azure Arc Private Link Scope, and virtual network must be in the "
         "same Azure region.",
    fix="Create the cluster resource in the scope's region (az connectedk8s connect -l <scope region>), or use a scope "
        "in the cluster's region.",
    hard=True,
    arm_code="PrivateLinkScopeLocationMismatch",
)

def check(ix: Index) -> Iterator[Finding]:
    for c in ix.clusters.values():
        scope = c.scope
        if scope is None or region_mismatch(c.location, scope.location) is None:
            continue
        yield finding(RULE, c, f"cluster {shown(c)} is in '{c.location}' but its Azure Arc Private Link Scope "
                               f"{shown(scope)} is in '{scope.location}'.", related=[scope])


__all__ = ["CLI_MESSAGE", "RULE", "check", "region_mismatch"]
