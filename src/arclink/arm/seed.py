"""Load a topology into the store through the same engine ARM requests use (``serve --topology``, ``state import``)."""

from __future__ import annotations

from arclink.arm import types
from arclink.arm.engine import Engine
from arclink.arm.errors import ArmError
from arclink.arm.routes import parse
from arclink.arm.store import Store
from arclink.model import schema
from arclink.model.arm_codec import resources_from_topology

_VERSION = "seed"


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
        for res in resources:
            if "namespace" in res:
                store.put(res["id"], res)
                continue
            route = parse(res["id"])
            rtype = types.lookup(route.type_key)
            if rtype is None:
                raise ArmError(400, "InvalidResourceType", f"cannot import '{res['id']}': unknown type.")
            body = {k: v for k, v in res.items() if k not in ("id", "type")}
            try:
                eng.put(route, rtype, body, _VERSION)
            except ArmError as exc:
                raise ArmError(exc.status, exc.code, f"{res['id']}: {exc.message}") from None
    return len(resources)
