"""The control API under ``/_arclink/``: health, reset, state dump/load, lint, on-premises facts.

On-premises facts ARM has no resource for (sites, DNS forwarders) are kept beside the
resources in the topology's own shape (``schema.Site``, ``schema.DnsForwarder``).
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from arclink.arm.config import ArmConfig
from arclink.arm.engine import Engine, Result
from arclink.arm.errors import ArmError, bad_request
from arclink.arm.live import LiveModel
from arclink.arm.model_view import onprem_of
from arclink.arm.store import Store
from arclink.arm.wire import JsonTooDeep, decode_json
from arclink.model import schema
from arclink.model.arm_codec import topology_from_resources
from arclink.model.errors import TopologyError

class ControlHost(Protocol):
    """What the control API uses of the front door."""

    engine: Engine
    live: LiveModel
    config: ArmConfig


def _json_object(body: bytes, must_be: str) -> dict[str, Any]:
    """The request body as a JSON object, else a 400 saying ``must_be``."""
    try:
        doc = decode_json(body) if body else None
    except (msgspec.DecodeError, UnicodeDecodeError, JsonTooDeep) as exc:  # msgspec raises the latter for bad UTF-8
        raise bad_request("InvalidRequestContent", f"The body is not JSON: {exc}.") from None
    if not isinstance(doc, dict):
        raise bad_request("InvalidRequestContent", must_be)
    return doc


_KINDS: dict[str, type[schema.Site] | type[schema.DnsForwarder]] = {"sites": schema.Site, "dnsforwarders": schema.DnsForwarder}
_META_KEYS = {"sites": "sites", "dnsforwarders": "dnsForwarders"}


def health(app: ControlHost, query: dict[str, str] | None = None) -> Result:
    """Liveness; with ``?wait=model`` it first brings the live model up to date (and says its version)."""
    body: dict[str, Any] = {"status": "ok", "resources": len(app.engine.store), "subscription": app.config.subscription}
    if (query or {}).get("wait") == "model":
        body["modelVersion"] = app.live.version
    return Result(200, body)


def handle(app: ControlHost, method: str, path: str, query: dict[str, str], body: bytes) -> Result:
    parts = [p for p in path.split("/") if p][1:]
    head = parts[0].lower() if parts else ""
    store = app.engine.store
    if head == "reset" and method == "POST":
        store.reset()
        app.engine.operations.clear()
        app.live.changed()
        return Result(200, {"status": "reset"})
    if head == "state" and method == "GET":
        resources, onprem = store.all_objects(), onprem_of(store)
        if (query.get("format") or "").lower() == "arm":
            return Result(200, {"resources": resources, "onprem": onprem})
        try:
            topo = topology_from_resources(resources, onprem)
        except TopologyError as exc:
            raise ArmError(409, "InconsistentState", str(exc)) from None
        return Result(200, msgspec.to_builtins(topo))
    if head == "state" and method in ("PUT", "POST"):
        return _load_state(app, query, body)
    if head == "lint" and method == "GET":
        from arclink.model import rules

        ix = app.live.index
        findings = [f.to_dict() for f in rules.run(ix)]
        counts = {s: sum(1 for f in findings if f["severity"] == s) for s in ("error", "warning", "info")}
        return Result(200, {"findings": findings, "summary": counts, "version": app.live.version})
    if head in _KINDS:
        return _onprem(app, head, parts[1:], method, body)
    raise ArmError(404, "InvalidRequestUri", f"'{path}' is not part of the control API (health, reset, state, lint, "
                                             "sites, dnsForwarders).")


def _onprem(app: ControlHost, kind: str, rest: list[str], method: str, body: bytes) -> Result:
    store = app.engine.store
    meta_key = _META_KEYS[kind]
    onprem: dict[str, Any] = dict(store.meta.get("onprem") or {})  # type: ignore[call-overload]
    table: dict[str, Any] = dict(onprem.get(meta_key) or {})
    if not rest:
        if method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"Use GET on /_arclink/{meta_key}.")
        return Result(200, {"value": list(table.values())})
    name = rest[0]
    key = name.lower()
    if method == "GET":
        if key not in table:
            raise ArmError(404, "ResourceNotFound", f"No {kind[:-1]} named '{name}'.")
        return Result(200, table[key])
    if method == "DELETE":
        if key not in table:
            return Result(204)
        del table[key]
    elif method == "PUT":
        doc = _json_object(body, "The body must be a JSON object in the topology's shape.")
        doc.setdefault("name", name)
        if not isinstance(doc["name"], str):
            raise bad_request("InvalidRequestContent", "The body's name must be a string.", "name")
        if doc["name"].lower() != key:
            raise bad_request("InvalidRequestContent", f"The body's name '{doc['name']}' differs from the URL's '{name}'.")
        try:
            obj = msgspec.convert(doc, _KINDS[kind])
        except msgspec.ValidationError as exc:
            raise bad_request("InvalidRequestContent", f"Invalid {kind[:-1]}: {exc}.") from None
        _check_refs(app, kind, obj)
        table[key] = msgspec.to_builtins(obj)
    else:
        raise ArmError(405, "MethodNotAllowed", "Use GET, PUT or DELETE.")
    onprem[meta_key] = table
    _validate(app, onprem)
    store.set_meta("onprem", onprem)
    app.live.changed()
    return Result(200, table[key]) if method == "PUT" else Result(200)


def _vnet_exists(store: Store, ref: str) -> bool:
    if ref.startswith("/"):
        obj = store.get_obj(ref)
        return obj is not None and (obj.get("type") or "").lower() == "microsoft.network/virtualnetworks"
    r = ref.lower()
    return any(k.endswith("/providers/microsoft.network/virtualnetworks/" + r) for k in store.bodies)


def _check_refs(app: ControlHost, kind: str, obj: schema.Site | schema.DnsForwarder) -> None:
    store = app.engine.store
    refs = [c.virtual_network for c in obj.connections] if isinstance(obj, schema.Site) else [obj.virtual_network]
    for ref in refs:
        if not _vnet_exists(store, ref):
            raise bad_request("InvalidResourceReference", f"Virtual network '{ref}' does not exist; create it through "
                                                          "ARM first.")


def _validate(app: ControlHost, onprem: dict[str, Any]) -> None:
    from arclink.model.arm_codec import index_from_resources

    current = onprem_of(app.engine.store)
    current.update({k: v for k, v in onprem.items() if k in ("sites", "dnsForwarders")})
    try:
        index_from_resources(app.engine.store.all_objects(), current)
    except TopologyError as exc:
        raise bad_request("InvalidRequestContent", exc.message) from None


def _load_state(app: ControlHost, query: dict[str, str], body: bytes) -> Result:
    """Create a topology's resources (PUT replaces the whole state, POST adds to it)."""
    from arclink.arm.seed import seed_topology

    doc = _json_object(body, "The body must be a topology (a JSON object).")
    try:
        topo = msgspec.convert(doc, schema.Topology)
    except msgspec.ValidationError as exc:
        raise bad_request("InvalidTopology", f"The topology is invalid: {exc}.") from None
    replace = (query.get("replace") or "").lower() in ("1", "true", "yes")
    try:
        n = seed_topology(app.engine.store, topo, replace=replace)
    except TopologyError as exc:
        raise bad_request(exc.code, str(exc)) from None
    app.live.changed()
    return Result(200, {"created": n})
