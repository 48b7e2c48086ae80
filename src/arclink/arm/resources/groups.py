"""Resource groups: stored with empty properties (the server sets provisioningState).

Provider registrations have no hooks: the front door stores them directly.
"""

from __future__ import annotations

from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.routes import Route
from arclink.model import arm_codec as codec
from arclink.model.rules import Rule


def _rg_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    new["properties"] = {}


HOOKS = {codec.T_RG: Hooks(prepare=_rg_prepare)}
ENFORCES: tuple[Rule, ...] = ()
