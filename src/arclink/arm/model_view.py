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
from arclink.model.index import Index, parse_arm_id

T_DNS_RESOLVER = "microsoft.network/dnsresolvers"
T_RESOLVER_INBOUND = "microsoft.network/dnsresolvers/inboundendpoints"
_RESOLVER_MARK = "/providers/microsoft.network/dnsresolvers/"
# the types the network model is built from (clusters and extensions are left out: cheap at 100k)
MODEL_TYPES = {codec.T_RG, codec.T_VNET, codec.T_SUBNET, codec.T_SCOPE, codec.T_PE, codec.T_ZONE_GROUP, codec.T_ZONE,
               codec.T_NSG, codec.T_LINK, T_DNS_RESOLVER, T_RESOLVER_INBOUND,
               *(f"{codec.T_ZONE}/{t}" for t in codec.RECORD_TYPES)}


class HasMeta(Protocol):
    @property
    def meta(self) -> Mapping[str, Any]: ...


def onprem_of(store: HasMeta, resources: list[Body] | None = None) -> dict[str, Any]:
    """Sites and DNS forwarders (those given through the control API, and every DNS private resolver
    inbound endpoint among ``resources``, by default the store's) and the default subscription."""
    o = store.meta.get("onprem") or {}
    if resources is None:
        bodies = getattr(store, "bodies", {})
        resources = [r for k in list(bodies) if _RESOLVER_MARK in k and (r := store.get_obj(k))]  # type: ignore[attr-defined]
    return {"sites": o.get("sites") or {},
            "dnsForwarders": {**resolver_forwarders(resources), **(o.get("dnsForwarders") or {})},
            "defaultSubscription": store.meta.get("subscription")}


def resolver_forwarders(resources: list[Body]) -> dict[str, Body]:
    """Each DNS private resolver inbound endpoint as the forwarder (``privateResolverInbound``) it is to the
    model: what on-premises DNS servers forward to, in the resolver's virtual network."""
    vnets = {r["id"].lower(): (r.get("name"), ((r.get("properties") or {}).get("virtualNetwork") or {}).get("id"))
             for r in resources if _type_of(r) == T_DNS_RESOLVER}
    out: dict[str, Body] = {}
    for ep in resources:
        if _type_of(ep) != T_RESOLVER_INBOUND:
            continue
        resolver, vnet = vnets.get(codec.parent_id(ep["id"]).lower(), (None, None))
        configs = (ep.get("properties") or {}).get("ipConfigurations") or []
        ip = next((c.get("privateIpAddress") for c in configs if isinstance(c, dict)), None)
        parts = parse_arm_id(ep["id"]) or {}
        if ip and vnet and resolver:
            name = f"{resolver}-{ep['name']}"
            out[name.lower()] = {"name": name, "kind": "privateResolverInbound", "virtualNetwork": vnet,
                                 "ipAddress": ip, "location": ep.get("location"), "resourceGroup": parts.get("rg"),
                                 "subscription": parts.get("sub")}
    return out


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
    for k in list(store.bodies):
        if k == replace_key or (drop_children and k.startswith(drop_children)):
            continue
        if "/providers/microsoft.network/" not in k and k.count("/") != 4:
            continue
        o = store.get_obj(k)
        if o and _type_of(o) in MODEL_TYPES:
            objs.append(o)
            if _type_of(o) == codec.T_PE:
                target, _ = endpoint_target(o)
                if target:
                    scope_ids.add(target.lower())
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
        return codec.index_from_resources(objs, onprem_of(store, [o for o in objs if _RESOLVER_MARK in o["id"].lower()]))
    except TopologyError as exc:
        raise bad_request("InvalidResourceReference", f"The request would leave the emulated network inconsistent: "
                                                      f"{exc.message}") from None
