"""APL001: one Azure Arc Private Link Scope per virtual network.

Helper for ``arclink explain`` (and any caller with an index):

``association_problem(pe) -> str | None``
    Why ARM refuses private endpoint ``pe``: its virtual network is already associated with
    another Azure Arc Private Link Scope (one whose endpoint is declared earlier there), else None.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from arclink.model.index import Index, PeR, ScopeR, VNetR
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL001",
    name="one-scope-per-vnet",
    severity="error",
    summary="A virtual network is associated with at most one Azure Arc Private Link Scope.",
    seed="You can associate only one Azure Arc Private Link Scope with a virtual network.",
    fix="Keep one Azure Arc Private Link Scope per virtual network: move the other scope's private endpoint "
        "to its own virtual network, or associate its clusters with the first scope.",
    hard=True,
    arm_code="PrivateLinkScopeAlreadyAssociatedWithVirtualNetwork",
)


def arc_scopes(endpoints: Iterable[PeR]) -> list[ScopeR]:
    """The Azure Arc Private Link Scopes behind ``endpoints``, in first-seen order."""
    seen: list[ScopeR] = []
    for pe in endpoints:
        if pe.is_arc and pe.scope is not None and pe.scope not in seen:
            seen.append(pe.scope)
    return seen


def scopes_of_vnet(vnet: VNetR) -> list[ScopeR]:
    """The Arc scopes whose private endpoints sit in ``vnet``, in declaration order."""
    return arc_scopes(vnet.endpoints)


def association_problem(pe: PeR) -> str | None:
    """Why ARM refuses ``pe`` in its virtual network, or None.

    The scope whose endpoint comes first in the virtual network keeps it (in Azure, the one created
    first); an endpoint of any later scope is the write ARM refuses. More endpoints of the first scope
    are accepted.
    """
    if not pe.is_arc or pe.scope is None or pe.vnet is None:
        return None
    scopes = scopes_of_vnet(pe.vnet)
    if pe.scope not in scopes or scopes.index(pe.scope) == 0:
        return None
    earlier = ", ".join(f"'{s.name}'" for s in scopes[:scopes.index(pe.scope)])
    return (f"virtual network '{pe.vnet.name}' is already associated with the Azure Arc Private Link Scope {earlier}; "
            "only one Azure Arc Private Link Scope can be associated with a virtual network")


def check(ix: Index) -> Iterator[Finding]:
    for vnet in ix.vnets.values():
        scopes = scopes_of_vnet(vnet)
        if len(scopes) > 1:
            names = ", ".join(f"'{s.name}'" for s in scopes)
            yield finding(RULE, vnet, f"virtual network {shown(vnet)} has private endpoints to {len(scopes)} Azure Arc "
                                      f"Private Link Scopes ({names}).", related=scopes)
