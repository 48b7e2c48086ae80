"""The emulator's resources seen as the network model: the on-premises facts and candidate indexes.

``candidate_index`` is the model as it would be with one more write: private endpoint
addresses and APL001 come from it, and a write that would leave the model unbuildable
is refused. ``onprem_of`` is what the store keeps beside the resources (sites, DNS
forwarders, the default subscription); the live model, the control API and
``state export`` read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from arclink.arm.errors import bad_request
from arclink.arm.hooks import Body, ResourceStore
from arclink.model import arm_codec as codec
from arclink.model.errors import TopologyError
from arclink.model.arm_resolvers import T_INBOUND, T_RESOLVER
from arclink.model.index import Index

# the types the network model is built from (clusters and extensions are left out: cheap at 100k)
MODEL_TYPES = {codec.T_RG, codec.T_VNET, codec.T_SUBNET, codec.T_SCOPE, codec.T_PE, codec.T_ZONE_GROUP, codec.T_ZONE,
               codec.T_NSG, codec.T_LINK, T_RESOLVER, T_INBOUND,
               *(f"{codec.T_ZONE}/{t}" for t in codec.RECORD_TYPES)}


class HasMeta(Protocol):
    @property
    def meta(self) -> Mapping[str, Any]: ...


def onprem_of(store: HasMeta) -> dict[str, Any]:
    """Sites and DNS forwarders given through the control API, and the default subscription.

    DNS private resolver inbound endpoints are ARM resources: ``model.arm_codec`` reads them as
    ``privateResolverInbound`` forwarders, for the emulator and the importer alike.
    """
    o = store.meta.get("onprem") or {}
    return {"sites": o.get("sites") or {}, "dnsForwarders": o.get("dnsForwarders") or {},
            "defaultSubscription": store.meta.get("subscription")}


def endpoint_target(pe: Body | None) -> tuple[str | None, Body]:
    """The resource a private endpoint connects to, and its connection's properties."""
    p = (pe or {}).get("properties") or {}
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for c in p.get(key) or []:
            cp = c.get("properties") or {}
            return cp.get("privateLinkServiceId"), cp
    return None, {}


def _type_of(obj: Body) -> str:
    return (obj.get("type") or "").lower()


def candidate_index(store: ResourceStore, replace_key: str, new: Body) -> Index:
    """The index as it would be with ``new`` stored: addresses and APL001 come from it.

    Only what the network model needs is decoded (resource groups, networking, DNS, and the
    scopes endpoints point at), so a store of 100k clusters or scopes stays cheap to check.
    """
    objs = []
    # a VNet PUT replaces its subnets with the ones inline in its body
    drop_children = replace_key + "/subnets/" if _type_of(new) == codec.T_VNET else None
    scope_ids = set()
    placed = False
    for k in list(store.network_keys):
        if k == replace_key:
            # a rewrite keeps its place: APL001 lets the endpoint that came first keep its VNet
            objs.append(new)
            placed = True
            continue
        if drop_children and k.startswith(drop_children):
            continue
        o = store.get_obj(k)
        if o and _type_of(o) in MODEL_TYPES:
            objs.append(o)
            if _type_of(o) == codec.T_PE:
                target, _ = endpoint_target(o)
                if target:
                    scope_ids.add(target.lower())
    if not placed:
        objs.append(new)
    if _type_of(new) == codec.T_PE:
        target, _ = endpoint_target(new)
        if target:
            scope_ids.add(target.lower())
    for sid in scope_ids:
        if sid != replace_key:
            scope = store.get_obj(sid)
            if scope and _type_of(scope) == codec.T_SCOPE:
                objs.append(scope)
    try:
        return codec.index_from_resources(objs, onprem_of(store))
    except TopologyError as exc:
        raise bad_request("InvalidResourceReference", f"The request would leave the emulated network inconsistent: "
                                                      f"{exc.message}") from None
