"""Azure Monitor Private Link Scopes (``Microsoft.Insights/privateLinkScopes``) and their scoped resources.

The scope APL011 looks for: a private-link cluster running Azure Monitor needs a private
endpoint to one (group id ``azuremonitor``) in a network its site reaches. An endpoint to
the scope creates its private endpoint connection as for an Azure Arc scope, approved or
rejected the same way (``arm.resources.scopes``).
"""

from __future__ import annotations

from arclink.arm.errors import bad_request
from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.resources import scopes
from arclink.arm.resources.common import arm_id_or_fail
from arclink.arm.routes import Route
from arclink.model import arm_codec as codec
from arclink.model.rules import Rule

ENFORCES: tuple[Rule, ...] = ()
T_AMPLS = "microsoft.insights/privatelinkscopes"
T_SCOPED = "microsoft.insights/privatelinkscopes/scopedresources"
T_AMPLS_PEC = "microsoft.insights/privatelinkscopes/privateendpointconnections"
GROUP_ID = "azuremonitor"


def _ampls_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    p = new["properties"]
    p["privateEndpointConnections"] = ((old or {}).get("properties") or {}).get("privateEndpointConnections") or []
    modes = p.get("accessModeSettings")
    if isinstance(modes, dict):
        modes.setdefault("queryAccessMode", "Open")
        modes.setdefault("ingestionAccessMode", "Open")
        if not isinstance(modes.setdefault("exclusions", []), list):
            raise bad_request("InvalidRequestContent", "properties.accessModeSettings.exclusions must be an array.",
                              "properties.accessModeSettings.exclusions")


def _scoped_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    linked = new["properties"].get("linkedResourceId")
    parts = arm_id_or_fail(linked, "properties.linkedResourceId")
    if parts["rest"]:
        raise bad_request("InvalidRequestContent", f"'{linked}' is not a resource that can be added to an Azure Monitor "
                                                   "Private Link Scope (a Log Analytics workspace, an Application "
                                                   "Insights component or a data collection endpoint).",
                          "properties.linkedResourceId")
    for k in store.list_keys(route.key.rsplit("/", 1)[0]):
        other = store.get_obj(k) or {}
        if k != route.key and ((other.get("properties") or {}).get("linkedResourceId") or "").lower() == linked.lower():
            raise bad_request("Conflict", f"'{linked}' is already in this scope as '{other.get('name')}'.",
                              "properties.linkedResourceId")
    new.pop("location", None)
    new.pop("tags", None)


HOOKS = {
    T_AMPLS: Hooks(prepare=_ampls_prepare),
    T_SCOPED: Hooks(prepare=_scoped_prepare),
    T_AMPLS_PEC: scopes.HOOKS[codec.T_PEC],  # approved or rejected as an Azure Arc scope's connection
}
