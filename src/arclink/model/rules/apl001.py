"""APL001: one Azure Arc Private Link Scope per virtual network."""

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


def check(ix: Index) -> Iterator[Finding]:
    for vnet in ix.vnets.values():
        scopes = scopes_of_vnet(vnet)
        if len(scopes) > 1:
            names = ", ".join(f"'{s.name}'" for s in scopes)
            yield finding(RULE, vnet, f"virtual network {shown(vnet)} has private endpoints to {len(scopes)} Azure Arc "
                                      f"Private Link Scopes ({names}).", related=scopes)
