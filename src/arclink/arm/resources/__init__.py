"""What each resource type does beyond storing its body, one module per resource family.

Every module declares ``HOOKS`` (type key -> ``Hooks``) and ``ENFORCES`` (the rules its
write-time refusals call, so the emulator and the linter say the same thing); this
package joins them into the one table the engine dispatches on. A type without an
entry is just stored.
"""

from __future__ import annotations

from collections.abc import Mapping

from arclink.arm.hooks import PLAIN, Hooks
from arclink.arm.resources import (clusters, endpoints, groups, monitor, networks, nics, nsgs, private_dns, resolvers,
                                   scopes)
from arclink.model.rules import Rule

FAMILIES = (groups, scopes, endpoints, private_dns, networks, nsgs, clusters, nics, monitor, resolvers)


def _table() -> dict[str, Hooks]:
    table: dict[str, Hooks] = {}
    for family in FAMILIES:
        for key, hooks in family.HOOKS.items():
            if key in table:
                raise RuntimeError(f"{key} has hooks in two resource modules")
            table[key] = hooks
    return table


HOOKS: Mapping[str, Hooks] = _table()
# every rule a write can be refused with (each carries its ARM error code)
ENFORCED_RULES: tuple[Rule, ...] = tuple(dict.fromkeys(r for family in FAMILIES for r in family.ENFORCES))


def hooks_for(type_key: str) -> Hooks:
    return HOOKS.get(type_key, PLAIN)
