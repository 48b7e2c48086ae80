"""Load a topology into the store through the same engine ARM requests use (``serve --topology``, ``state import``).

Three things a topology file leaves implicit are made explicit here, as someone building it
through ARM would have to: VNet peerings are created as child resources once every VNet
exists (a peering needs its remote VNet), an Azure Monitor Private Link Scope an endpoint
names is created before the endpoint (the topology has no resource of its own for it), and
the subscriptions' display names are kept for ``GET /subscriptions``.
"""

from __future__ import annotations

from typing import Any

from arclink.arm import tenancy, types
from arclink.arm.engine import Engine
from arclink.arm.errors import ArmError
from arclink.arm.resources.monitor import T_AMPLS
from arclink.arm.routes import parse
from arclink.arm.store import Store
from arclink.model import schema
from arclink.model.arm_codec import T_PE, T_VNET, resources_from_topology
from arclink.model.index import parse_arm_id

_VERSION = "seed"


def _ordered(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inline peerings moved after the last VNet; the Azure Monitor scopes endpoints name put before them."""
    out: list[dict[str, Any]] = []
    peerings: list[dict[str, Any]] = []
    implied: set[str] = set()
    for res in resources:
        rtype = (res.get("type") or "").lower()
        if rtype == T_VNET and (res.get("properties") or {}).get("virtualNetworkPeerings"):
            props = dict(res["properties"])
            for p in props.pop("virtualNetworkPeerings"):
                pp = {k: v for k, v in (p.get("properties") or {}).items() if k != "peeringState"}
                peerings.append({"id": f"{res['id']}/virtualNetworkPeerings/{p['name']}",
                                 "type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", "properties": pp})
            res = {**res, "properties": props}
        elif rtype == T_PE:
            if peerings:
                out += peerings
                peerings = []
            for conn in (res.get("properties") or {}).get("privateLinkServiceConnections") or \
                    (res.get("properties") or {}).get("manualPrivateLinkServiceConnections") or []:
                target = (conn.get("properties") or {}).get("privateLinkServiceId") or ""
                parts = parse_arm_id(target)
                if parts and f"{parts['ns']}/{parts['type']}".lower() == T_AMPLS and not parts["rest"] \
                        and target.lower() not in implied:
                    implied.add(target.lower())
                    out.append({"id": target, "type": "Microsoft.Insights/privateLinkScopes", "location": "global",
                                "_implied": True})
        out.append(res)
    return out + peerings


def seed_topology(store: Store, topo: schema.Topology, *, replace: bool = False) -> int:
    """Create every resource of ``topo`` in creation order; returns how many. Raises ``ArmError`` on a refusal."""
    resources, onprem = resources_from_topology(topo)
    eng = Engine(store)
    with store.batch():
        if replace:
            store.reset()
        if onprem.get("defaultSubscription"):
            store.set_meta("subscription", onprem["defaultSubscription"])
        store.set_meta("onprem", {"sites": onprem.get("sites") or {}, "dnsForwarders": onprem.get("dnsForwarders") or {}})
        names = tenancy.names_from_topology(topo.subscriptions)
        if names:
            store.set_meta(tenancy.META_KEY, {**(store.meta.get(tenancy.META_KEY) or {}), **names})  # type: ignore[dict-item]
        for res in _ordered(resources):
            if "namespace" in res:
                store.put(res["id"], res)
                continue
            route = parse(res["id"])
            rtype = types.lookup(route.type_key)
            if rtype is None:
                raise ArmError(400, "InvalidResourceType", f"cannot import '{res['id']}': unknown type.")
            body = {k: v for k, v in res.items() if k not in ("id", "type", "_implied")}
            try:
                if res.get("_implied"):
                    # named by an endpoint, not declared: created whatever its group's registrations
                    if store.get(route.key) is None:
                        eng._commit(route, rtype, eng.build(route, rtype, body, None), None)
                    continue
                eng.put(route, rtype, body, _VERSION)
            except ArmError as exc:
                raise ArmError(exc.status, exc.code, f"{res['id']}: {exc.message}") from None
    return len(resources)
