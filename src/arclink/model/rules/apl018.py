"""APL018: a private endpoint to an Azure Arc Private Link Scope uses the sub-resource hybridcompute.

Helper for the emulator's write-time check: ``group_id_problem(target_type, group_ids) -> str | None``
returns the refusal message for one private link service connection (target resource type as
``Namespace/type``, its ``groupIds``), or None when Azure accepts it.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from arclink.model import catalogue as cat
from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL018",
    name="endpoint-group-id-hybridcompute",
    severity="error",
    summary="A private endpoint to Microsoft.HybridCompute/privateLinkScopes has exactly one group id (target "
            "sub-resource): hybridcompute.",
    seed="**Resource type**: `Microsoft.HybridCompute/privateLinkScopes`. [...] **Target sub-resource**: `hybridcompute`.",
    fix="Set the private endpoint's groupIds to [hybridcompute] (portal: Target sub-resource hybridcompute; az network "
        "private-endpoint create --group-id hybridcompute) and target the scope's Microsoft.HybridCompute/privateLinkScopes id.",
    hard=True,
    arm_code="PrivateEndpointBadRequest",
)


def group_id_problem(target_type: str, group_ids: Iterable[str] | None) -> str | None:
    """Why Azure refuses this connection's group ids, or None. Group ids compare without case."""
    ids = list(group_ids or [])
    is_arc = (target_type or "").lower() == cat.ARC_RESOURCE_TYPE.lower()
    if not is_arc:
        if any(g.lower() == cat.ARC_GROUP_ID for g in ids):
            return (f"group id '{cat.ARC_GROUP_ID}' belongs to {cat.ARC_RESOURCE_TYPE}, not to {target_type}; "
                    f"target the Azure Arc Private Link Scope ({cat.ARC_RESOURCE_TYPE}).")
        return None
    if not ids:
        return f"a private endpoint to {cat.ARC_RESOURCE_TYPE} needs the group id '{cat.ARC_GROUP_ID}'; none is given."
    if len(ids) > 1:
        return (f"a private link service connection takes exactly one group id; {cat.ARC_RESOURCE_TYPE} offers only "
                f"'{cat.ARC_GROUP_ID}' (given: {', '.join(ids)}).")
    if ids[0].lower() != cat.ARC_GROUP_ID:
        return (f"'{ids[0]}' is not a sub-resource of {cat.ARC_RESOURCE_TYPE}; the only one is '{cat.ARC_GROUP_ID}'.")
    return None


def check(ix: Index) -> Iterator[Finding]:
    for pe in ix.endpoints.values():
        problem = group_id_problem(pe.target_type, pe.spec.group_ids)
        if problem:
            yield finding(RULE, pe, f"private endpoint {shown(pe)}: {problem}", related=[pe.scope])
