"""APL009: NSG allow rules for the public Azure services rank before any rule that blocks the internet.

Checked NSGs: those on subnets of virtual networks that hold an Azure Arc private endpoint or
that a site connects to. An NSG with an outbound rule that blocks internet access
(``nsg.blocks_internet``) needs each of the seed's four allow rules (``catalogue.SEED_NSG_RULES``:
names and priorities 150-153) in every direction the seed lists, with a lower priority number
than the first blocking rule of that direction. Inbound, the blocking rules are custom inbound
denies from the internet (Azure's own DenyAllInBound, 65500, always comes after them).
Reported once per NSG.
"""

from __future__ import annotations

from typing import Iterator, cast

from arclink.model import catalogue as cat
from arclink.model import schema
from arclink.model.index import Index, NsgR, VNetR
from arclink.model.nsg import allows_tag, blocks_internet
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL009",
    name="nsg-allow-before-block",
    severity="error",
    summary="NSG rules allowing Entra ID, ARM, Front Door and MCR on TCP 443 have priorities lower than any rule that blocks the internet.",
    seed="If your network is configured to route all internet-bound traffic through the Azure VPN or ExpressRoute "
         "circuit, you can configure the network security group (NSG) associated with your subnet in Azure to allow "
         "outbound TCP 443 (HTTPS) access to Microsoft Entra ID, Azure Resource Manager, Azure Front Door, and "
         "Microsoft Container Registry using service tags.",
    fix="Add the four allow rules of the seed's table (AllowAADOutboundAccess 150, AllowAzOutboundAccess 151, "
        "AllowAzureFrontDoorFirstPartyAccess 152 inbound and outbound, AllowMCROutboundAccess 153; TCP 443 to the "
        "service tag) with priority numbers lower than any rule that blocks internet access.",
)


def nsgs_to_check(ix: Index) -> dict[NsgR, list[VNetR]]:
    """NSG -> the virtual networks (in order) that make it relevant."""
    vnets: list[VNetR] = []
    for v in ix.vnets.values():
        if any(pe.is_arc for pe in v.endpoints):
            vnets.append(v)
    for site in ix.sites.values():
        for _, v in site.connections:
            if v not in vnets:
                vnets.append(v)
    out: dict[NsgR, list[VNetR]] = {}
    for v in vnets:
        for s in v.subnets.values():
            if s.nsg is not None:
                out.setdefault(s.nsg, [])
                if v not in out[s.nsg]:
                    out[s.nsg].append(v)
    return out


def problems(rules: list[schema.SecurityRule]) -> tuple[schema.SecurityRule | None, list[str], list[str]]:
    """(first internet-blocking outbound rule or None, missing seed rules, allow rules ranked after a block)."""
    block = {
        "Outbound": min((r for r in rules if blocks_internet(r)), key=lambda r: r.priority, default=None),
        "Inbound": min((r for r in rules if blocks_internet(r, "Inbound")), key=lambda r: r.priority, default=None),
    }
    if block["Outbound"] is None:
        return None, [], []
    missing: list[str] = []
    late: list[tuple[schema.SecurityRule, str]] = []
    for seed in cat.SEED_NSG_RULES:
        for direction in cast(tuple[str, ...], seed["directions"]):
            allows = [r for r in rules if allows_tag(r, str(seed["tag"]), str(direction))]
            limit = block[direction]
            if not allows:
                missing.append(f"{seed['name']} ({direction.lower()} TCP 443 {seed['tag']}, priority {seed['priority']})")
                continue
            best = min(allows, key=lambda r: r.priority)
            if limit is not None and best.priority > limit.priority:
                late.append((limit, f"{shown(best)} ({best.priority})"))
    grouped: dict[tuple[str, int], list[str]] = {}  # (name, priority) of the blocking rule -> allow rules after it
    for limit, text in late:
        grouped.setdefault((limit.name, limit.priority), []).append(text)
    ranked = [f"{', '.join(t)} rank{'s' if len(t) == 1 else ''} after '{name}' ({prio})"
              for (name, prio), t in grouped.items()]
    return block["Outbound"], missing, ranked


def check(ix: Index) -> Iterator[Finding]:
    for nsg, vnets in nsgs_to_check(ix).items():
        block, missing, late = problems(list(nsg.spec.security_rules))
        if block is None or (not missing and not late):
            continue
        parts = []
        if missing:
            parts.append("it lacks " + ", ".join(missing))
        if late:
            parts.append("; ".join(late))
        yield finding(RULE, nsg, f"network security group {shown(nsg)} blocks internet access with rule '{block.name}' "
                                 f"(priority {block.priority}), but {'; and '.join(parts)}.", related=vnets)
