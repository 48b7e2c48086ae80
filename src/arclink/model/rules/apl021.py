"""APL021: the private link preview is not offered in South East Asia.

Helper for the emulator's write-time check: ``region_unavailable(location) -> str | None``
returns the refusal message for a scope or private-link cluster in ``location``, or None.
The region list is ``catalogue.unavailable_regions()`` (overridable, see the catalogue); the
decision lives in ``model.onboarding`` so that ``arclink explain`` refuses the same clusters.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index
from arclink.model.onboarding import region_unavailable
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL021",
    name="preview-region-available",
    severity="error",
    summary="Azure Arc Private Link Scopes and private-link clusters are not placed in regions where the preview is "
            "unavailable (South East Asia).",
    seed="The Azure Arc Private Link feature is currently in PREVIEW in all regions where Azure Arc-enabled Kubernetes "
         "is present, except South East Asia.",
    fix="Move the scope and its private-link clusters to a region where the preview is offered (for example East Asia "
        "or Australia East instead of Southeast Asia): set location on the scope, the clusters and their resource group.",
    hard=True,
    arm_code="LocationNotAvailableForResourceType",
)


def check(ix: Index) -> Iterator[Finding]:
    for scope in ix.scopes.values():
        why = region_unavailable(scope.location)
        if why:
            yield finding(RULE, scope, f"private link scope {shown(scope)}: {why}")
    for c in ix.clusters.values():
        if not c.private_link:
            continue
        why = region_unavailable(c.location)
        if why:
            yield finding(RULE, c, f"cluster {shown(c)} has privateLinkState Enabled: {why}",
                          related=[c.scope])

__all__ = ["RULE", "check", "region_unavailable"]
