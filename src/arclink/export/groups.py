"""Deployment groups: the plan's Azure steps cut into per-resource-group batches.

ARM templates and Bicep deploy into one resource group at a time, so a plan that spans
resource groups becomes nested deployments (ARM) or modules (Bicep). A group is
(subscription, resource group, level): a step's level rises by one each time one of its
dependencies lives in another resource group, so every dependency between groups points
to a lower level and the groups form no cycle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from arclink.export.plan import Plan, Step

DEPLOYED_KINDS = ("networkSecurityGroup", "virtualNetwork", "virtualNetworkPeering", "privateLinkScope",
                  "privateDnsZone", "virtualNetworkLink", "recordSet", "privateEndpoint", "privateDnsZoneGroup",
                  "connectedCluster", "extension")


@dataclass
class Group:
    name: str  # deployment / module name, e.g. arclink-01-rg-arc-hub
    subscription: str
    resource_group: str
    level: int
    steps: list[Step] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)  # other group names


def arm_name(step: Step) -> str:
    """The template ``name`` of a resource: child resources carry their parents' names (zone/link)."""
    rest = step.id.split("/providers/")[-1] if "/providers/" in step.id else step.id
    if step.kind == "extension":
        return step.name
    parts = rest.split("/")[1:]  # drop the namespace
    return "/".join(parts[1::2])


def resource_id_expr(step: Step) -> str:
    """``[resourceId('type', 'n1', 'n2')]`` for a resource in the same resource group."""
    names = ", ".join(f"'{n}'" for n in arm_name(step).split("/"))
    return f"[resourceId('{step.type}', {names})]"


def build_groups(plan: Plan) -> list[Group]:
    steps = [s for s in plan.steps if s.kind in DEPLOYED_KINDS]
    level: dict[str, int] = {}
    place = {s.key: (s.subscription.lower(), (s.resource_group or "").lower()) for s in steps}
    for s in steps:  # the plan is in dependency order
        lv = 0
        for d in s.depends_on:
            if d in level:
                lv = max(lv, level[d] + (1 if place[d] != place[s.key] else 0))
        level[s.key] = lv
    groups: dict[tuple, Group] = {}
    group_of: dict[str, Group] = {}
    for s in steps:
        k = (place[s.key], level[s.key])
        if k not in groups:
            n = len(groups) + 1
            slug = re.sub(r"[^A-Za-z0-9-]+", "-", s.resource_group or "rg")
            groups[k] = Group(f"arclink-{n:02d}-{slug}"[:64], s.subscription, s.resource_group, level[s.key])
        groups[k].steps.append(s)
        group_of[s.key] = groups[k]
    for g in groups.values():
        for s in g.steps:
            for d in s.depends_on:
                other = group_of.get(d)
                if other is not None and other is not g and other.name not in g.depends_on:
                    g.depends_on.append(other.name)
    return sorted(groups.values(), key=lambda g: (g.level, g.name))
