"""APL005: a private endpoint is in the same region as its virtual network.

Azure refuses a private endpoint whose region differs from its subnet's virtual network.
Applies to every private endpoint in the topology (Arc and others: Azure refuses them all).

Write-time helper for the emulator (no index needed):

``pe_region_mismatch(pe_location, vnet_location, subnet_id="", pe_id="") -> str | None``
    Azure's ``InvalidResourceReference`` message for a subnet in another region, else None.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.catalogue import normalize_location
from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL005",
    name="endpoint-vnet-same-region",
    severity="error",
    summary="A private endpoint is in the same Azure region as its virtual network.",
    seed="The Private Endpoint and the virtual network must also be in the same Azure region",
    fix="Create the private endpoint in the region of its virtual network (the portal's \"Select the same region as "
        "your virtual network\"; az network private-endpoint create -l <vnet region>).",
    hard=True,
    arm_code="InvalidResourceReference",
)


def pe_region_mismatch(pe_location: str | None, vnet_location: str | None, subnet_id: str = "",
                       pe_id: str = "") -> str | None:
    """The refusal message when a private endpoint and its VNet are in different regions, else None."""
    if normalize_location(pe_location) == normalize_location(vnet_location):
        return None
    # The shape of ARM's InvalidResourceReference message for cross-region references (UNCONFIRMED wording).
    subnet = subnet_id or "the subnet"
    pe = pe_id or "the private endpoint"
    return (f"Resource {subnet} referenced by resource {pe} was not found. Please make sure that the referenced "
            f"resource exists, and that both resources are in the same region. (private endpoint location "
            f"'{normalize_location(pe_location)}', virtual network location '{normalize_location(vnet_location)}')")


def check(ix: Index) -> Iterator[Finding]:
    for pe in ix.endpoints.values():
        vnet = pe.vnet
        if vnet is None or pe_region_mismatch(pe.location, vnet.location) is None:
            continue
        yield finding(RULE, pe, f"private endpoint {shown(pe)} is in '{pe.location}' but its virtual network "
                                f"{shown(vnet)} is in '{vnet.location}'.", related=[vnet])
