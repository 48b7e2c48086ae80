"""Azure Arc Private Link Scopes and their private endpoint connections.

A connection is created by a private endpoint to the scope (``arm.resources.endpoints``);
here it is approved, rejected or removed, and its state is copied back to the endpoint.
"""

from __future__ import annotations

import uuid

from arclink.arm.errors import ArmError, refuse
from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.resources.common import mirror
from arclink.arm.routes import Route
from arclink.model import arm_codec as codec
from arclink.model import catalogue as cat
from arclink.model.rules import apl021

ENFORCES = (apl021.RULE,)


def _scope_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    if old is None:
        problem = apl021.region_unavailable(new["location"])
        if problem:
            raise refuse(apl021.RULE, problem, "location")
    p = new["properties"]
    p["privateLinkScopeId"] = (old or {}).get("properties", {}).get("privateLinkScopeId") or str(uuid.uuid4())
    p["privateEndpointConnections"] = (old or {}).get("properties", {}).get("privateEndpointConnections") or []
    p.setdefault("publicNetworkAccess", "Disabled")


def mirror_scope(store: ResourceStore, scope_id: str) -> None:
    mirror(store, scope_id, "privateEndpointConnections", "privateendpointconnections")


def _pec_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    if old is None:
        raise ArmError(404, "PrivateEndpointConnectionNotFound",
                       f"Private endpoint connection '{route.names[-1]}' was not found. Connections are created by "
                       "creating a private endpoint to the scope; then approve or reject them here.")
    state = new["properties"].get("privateLinkServiceConnectionState") or {}
    new["properties"] = {
        "privateEndpoint": old["properties"].get("privateEndpoint"),
        "privateLinkServiceConnectionState": {"status": state.get("status"),
                                              "description": state.get("description") or "",
                                              "actionsRequired": "None"},
        "provisioningState": "Succeeded",
        "groupIds": old["properties"].get("groupIds") or [cat.ARC_GROUP_ID]}


def _pec_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    _sync_pe_state(store, new["properties"]["privateEndpoint"]["id"],
                   new["properties"]["privateLinkServiceConnectionState"])
    mirror_scope(store, codec.parent_id(new["id"]))


def _pec_after_delete(store: ResourceStore, route: Route, old: Body) -> None:
    pe_id = ((old.get("properties") or {}).get("privateEndpoint") or {}).get("id")
    if pe_id:
        _sync_pe_state(store, pe_id, {"status": "Disconnected", "description": "The connection was removed by the "
                                                                               "private link scope owner.",
                                      "actionsRequired": "None"})
    mirror_scope(store, codec.parent_id(old["id"]))


def _sync_pe_state(store: ResourceStore, pe_id: str, state: Body) -> None:
    pe = store.get_obj(pe_id)
    if pe is None:
        return
    p = pe.get("properties") or {}
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for c in p.get(key) or []:
            c.setdefault("properties", {})["privateLinkServiceConnectionState"] = dict(state)
    store.put(pe_id, pe)


HOOKS = {
    codec.T_SCOPE: Hooks(prepare=_scope_prepare),
    codec.T_PEC: Hooks(prepare=_pec_prepare, after_put=_pec_after_put, after_delete=_pec_after_delete),
}
