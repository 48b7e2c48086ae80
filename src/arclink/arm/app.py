"""The ARM front door as an ASGI app: auth, api-version policy, body limits, routing, errors.

``create_app(store, live, config)`` returns a plain ASGI callable (no per-request
framework routing: every ARM path goes through ``routes.parse`` and the generic
``Engine``), plus the control API under ``/_arclink/``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from arclink.arm import auth, control, types
from arclink.arm.engine import Engine, Result
from arclink.arm.errors import ArmError, bad_request
from arclink.arm.routes import Route, parse
from arclink.model import catalogue as cat

log = logging.getLogger("arclink.arm")

MAX_BODY = 4 * 1024 * 1024
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-(preview|alpha|beta|rc|privatepreview))?$")
_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


@dataclass
class ArmConfig:
    token: str
    subscription: str
    tenant: str
    api_version_check: str = "strict"  # strict | lenient | off
    base_url: str = ""
    state_dir: str | None = None
    extra: dict = field(default_factory=dict)
    signing_key: Any = None  # tokens.SigningKey: access tokens from the token service are accepted too
    principals: Any = None  # principals.Registry behind /_arclink/principals


def create_app(store, live, config: ArmConfig):
    """The emulator's ASGI app over ``store`` (an ``arm.store.Store``), publishing to ``live``.

    ``live`` is best an ``arm.live.StoreLiveState`` (rebuilt lazily after writes); a plain
    ``model.live.LiveState`` works too and gets a rebuilt index published after every write.
    """
    if not hasattr(live, "changed"):
        live.changed = _publisher(store, live)
    engine = Engine(store, base_url=config.base_url)
    app = _App(engine, live, config)
    return app


class _App:
    def __init__(self, engine: Engine, live, config: ArmConfig):
        self.engine, self.live, self.config = engine, live, config
        self._token = config.token.encode()

    def set_base_url(self, url: str) -> None:
        self.config.base_url = url
        self.engine.base_url = url

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        method = scope["method"]
        path = scope["path"]
        try:
            result = await self._handle(scope, receive, method, path)
        except ArmError as exc:
            result = Result(exc.status, exc.body(), exc.headers)
        except Exception:  # a bug: still answer in ARM's shape, and say so in the log
            log.exception("internal error on %s %s", method, path)
            result = Result(500, {"error": {"code": "InternalServerError",
                                            "message": "The emulator hit an internal error; see its log."}})
        await _send(send, result, head=method == "HEAD")

    async def _handle(self, scope, receive, method: str, path: str) -> Result:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path == "/_arclink/health":
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            return control.health(self, query)
        auth.check_bearer(headers.get("authorization"), static_token=self._token, tenant=self.config.tenant,
                          authority=self.config.base_url, key=self.config.signing_key)
        body = await _read_body(receive, headers)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        if path.rstrip("/").lower() == "/tenants" and method == "GET":
            return auth.tenants(self.config.tenant)
        if path.lower().startswith("/_arclink/principals"):
            return auth.principals(self.config.principals, self.config.tenant, method,
                                   [p for p in path.split("/") if p][1:], body)
        if path.startswith("/_arclink/"):
            return await self._durably(lambda: control.handle(self, method, path, query, body))
        route = parse(path)
        result = await self._durably(lambda: self.dispatch(method, route, query, body, headers, path))
        if method in ("PUT", "PATCH", "DELETE", "POST") and result.status < 300:
            self.live.changed()
        return result

    async def _durably(self, work) -> Result:
        """``work()``, answered only once the writes it made are on disk (group commit)."""
        store = self.engine.store
        store.take_futures()
        try:
            result = work()
        finally:
            futures = store.take_futures()
        if futures:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        return result

    # --- dispatch -------------------------------------------------------------------------
    def dispatch(self, method: str, route: Route, query: dict, body: bytes, headers: dict, path: str) -> Result:
        api_version = _query_get(query, "api-version")
        eng = self.engine
        if route.kind == "subscriptions":
            self._version(api_version)
            _only(method, "GET")
            subs = {self.config.subscription.lower(): self.config.subscription}
            for k in list(eng.store.bodies):
                sub = k.split("/")[2]
                subs.setdefault(sub, sub)
            return Result(200, {"value": [{"id": f"/subscriptions/{s}", "subscriptionId": s, "tenantId": self.config.tenant,
                                           "displayName": "arclink emulator", "state": "Enabled"} for s in subs.values()]})
        if route.kind == "operations":
            self._version(api_version)
            _only(method, "GET")
            ns = types.NAMESPACES.get(route.ns.lower())
            if ns is None:
                raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{route.ns}' is invalid.")
            ops = [{"name": f"{t.type}/{verb}", "display": {"provider": ns, "resource": t.type.split("/", 1)[1],
                                                              "operation": f"{verb} {t.type.rsplit('/', 1)[-1]}"}}
                   for t in types.namespace_types(ns.lower()) for verb in ("read", "write", "delete")]
            return Result(200, {"value": ops})
        if route.kind == "unknown":
            self._version(api_version)
            raise ArmError(404, "InvalidRequestUri" if not route.sub else "InvalidResourceType",
                           f"The request path '{path}' does not name a resource, collection or action this service "
                           "offers.")
        if not _GUID.match(route.sub):
            raise bad_request("InvalidSubscriptionId", f"The provided subscription identifier '{route.sub}' is "
                                                       "malformed or invalid.")
        if route.kind == "subscription":
            self._version(api_version)
            _only(method, "GET")
            return Result(200, {"id": f"/subscriptions/{route.sub}", "subscriptionId": route.sub,
                                "tenantId": self.config.tenant, "displayName": "arclink emulator", "state": "Enabled"})
        if route.kind in ("rgs", "rg", "providers", "provider", "provider_action"):
            self._version(api_version, types.RESOURCES_VERSIONS)
            return self._resources_rp(method, route, query, body, headers, api_version, path)
        if route.kind == "generic_list":
            self._version(api_version, types.RESOURCES_VERSIONS)
            _only(method, "GET")
            if route.rg:
                eng.require_rg(route.sub, route.rg)
            prefix = route.id + ("/providers/" if route.rg else "/resourcegroups/")
            keys = [k for k in eng.store.bodies if k.startswith(prefix) and k.count("/") == 8
                    and "/providers/" in k[len(route.id):]]
            return eng.list(keys, query, path)
        if route.kind == "location_op":
            self._version(api_version)
            return self._location_op(method, route)
        if route.kind == "sub_list":
            rtype = self._type(route, api_version, route.ns)
            _only(method, "GET")
            return eng.list(eng.store.list_keys(route.key), query, path)
        ns = route.type_key.split("/")[0]
        rtype = types.lookup(route.type_key)
        if route.kind == "collection":
            if route.type_key == "microsoft.network/privatednszones/all":
                self._version(api_version, types.PRIVATEDNS_VERSIONS)
                _only(method, "GET")
                zk = route.key.rsplit("/", 1)[0]
                if eng.store.get(zk) is None:
                    eng._missing(parse(zk), types.lookup("microsoft.network/privatednszones"))
                keys = [k for t in ("a", "aaaa", "cname", "mx", "ptr", "soa", "srv", "txt")
                        for k in eng.store.list_keys(f"{zk}/{t}")]
                return eng.list(keys, query, path)
            if route.type_key == "microsoft.hybridcompute/privatelinkscopes/privatelinkresources":
                self._version(api_version, types.HYBRIDCOMPUTE_VERSIONS)
                return Result(200, {"value": [self._pl_resource(route.id.rsplit("/", 1)[0])], "nextLink": None})
            if rtype is None:
                return self._action(method, route, api_version, ns)
            self._check_type_version(api_version, rtype)
            _only(method, "GET")
            if route.rg:
                eng.require_rg(route.sub, route.rg)
            parent = route.parent_id if route.parent_id and not route.names else \
                route.id.rsplit("/", 1)[0] if route.names else None
            if parent and eng.store.get(parent) is None:
                pr = parse(parent)
                eng._missing(pr, types.lookup(pr.type_key))
            return eng.list(eng.store.list_keys(route.key), query, path)
        # a single resource
        if route.type_key == "microsoft.hybridcompute/privatelinkscopes/privatelinkresources":
            self._version(api_version, types.HYBRIDCOMPUTE_VERSIONS)
            _only(method, "GET")
            if route.names[-1].lower() != cat.ARC_GROUP_ID:
                raise ArmError(404, "ResourceNotFound", f"The private link resource '{route.names[-1]}' was not found; "
                                                        f"the only one is '{cat.ARC_GROUP_ID}'.")
            return Result(200, self._pl_resource(route.id.rsplit("/", 2)[0]))
        if rtype is None:
            self._unknown_type(api_version, route, ns)
        self._check_type_version(api_version, rtype, _location_of(body))
        if method == "HEAD":
            return Result(200 if eng.store.get(route.key) else 404)
        return self._one(method, route, rtype, body, api_version, headers)

    def _one(self, method, route, rtype, body, api_version, headers) -> Result:
        """GET, PUT, PATCH or DELETE of one resource."""
        eng = self.engine
        if method == "GET":
            return eng.get(route, rtype)
        if method == "PUT":
            return eng.put(route, rtype, _json_object(body), api_version, headers)
        if method == "PATCH":
            return eng.patch(route, rtype, _json_object(body), api_version, headers)
        if method == "DELETE":
            return eng.delete(route, rtype, api_version, headers)
        raise _method_not_allowed(method, rtype.type)

    # --- Microsoft.Resources ----------------------------------------------------------------
    def _resources_rp(self, method, route, query, body, headers, api_version, path) -> Result:
        eng = self.engine
        rg_type = types.lookup("microsoft.resources/resourcegroups")
        if route.kind == "rgs":
            _only(method, "GET")
            return eng.list(eng.store.list_keys(route.key), query, path)
        if route.kind == "rg":
            if method == "HEAD":
                return Result(204 if eng.store.get(route.key) else 404)
            res = self._one(method, route, rg_type, body, api_version, headers)
            if method == "DELETE" and res.status == 200:  # deleting a group is a long-running operation
                res = Result(202, None, eng.operation(route, rg_type, api_version, kind="delete", result_status=200))
            return res
        if route.kind == "providers":
            _only(method, "GET")
            return Result(200, {"value": [self._provider(route.sub, ns) for ns in types.NAMESPACES.values()]})
        ns = types.NAMESPACES.get(route.ns.lower())
        if ns is None:
            raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{route.ns}' is invalid. This "
                                                            f"emulator serves {', '.join(types.NAMESPACES.values())}.")
        if route.kind == "provider":
            _only(method, "GET")
            return Result(200, self._provider(route.sub, ns))
        _only(method, "POST")
        key = f"/subscriptions/{route.sub}/providers/{ns}"
        state = "Registered" if route.action == "register" else "Unregistered"
        if ns != "Microsoft.Resources":
            eng.store.put(key, {"id": key, "namespace": ns, "registrationState": state})
        return Result(200, self._provider(route.sub, ns))

    def _provider(self, sub: str, ns: str) -> dict:
        registered = self.engine.registered(sub, ns)
        key = f"/subscriptions/{sub}/providers/{ns}"
        stored = self.engine.store.get_obj(key) or {}
        state = "Registered" if registered else stored.get("registrationState") or "NotRegistered"
        return {"id": key, "namespace": ns, "registrationState": state, "registrationPolicy": "RegistrationRequired",
                "resourceTypes": types.provider_resource_types(ns.lower()),
                "providerAuthorizationConsentState": "NotRequired"}

    # --- location-scoped operations ----------------------------------------------------------
    def _location_op(self, method, route) -> Result:
        _only(method, "GET")
        extra = [e.lower() for e in route.extra]
        if len(extra) == 3 and extra[1] in ("operationstatuses", "operationresults"):
            return self.engine.operation_result(route.extra[2], extra[1])
        if len(extra) == 3 and extra[1] == "privatelinkscopes" and route.ns.lower() == "microsoft.hybridcompute":
            return self._validation_details(route.sub, route.extra[2])
        raise ArmError(404, "InvalidResourceType", f"The resource type 'locations/{'/'.join(route.extra[1:2])}' could "
                                                   f"not be found in the namespace '{route.ns}'.")

    def _validation_details(self, sub: str, guid: str) -> Result:
        store = self.engine.store
        for k in store.list_keys(f"/subscriptions/{sub}/providers/microsoft.hybridcompute/privatelinkscopes"):
            scope = store.get_obj(k) or {}
            p = scope.get("properties") or {}
            if (p.get("privateLinkScopeId") or "").lower() == guid.lower():
                details = []
                for pec in p.get("privateEndpointConnections") or []:
                    pe = store.get_obj(((pec.get("properties") or {}).get("privateEndpoint") or {}).get("id", "")) or {}
                    for cfg in (pe.get("properties") or {}).get("customDnsConfigs") or []:
                        details.append({"id": pe.get("id"), "privateIpAddress": (cfg.get("ipAddresses") or [""])[0],
                                        "linkIdentifier": pec.get("name"), "groupId": cat.ARC_GROUP_ID,
                                        "memberName": cfg.get("fqdn")})
                return Result(200, {"id": scope["id"], "publicNetworkAccess": p.get("publicNetworkAccess"),
                                    "connectionDetails": details})
        raise ArmError(404, "ResourceNotFound", f"No Azure Arc Private Link Scope with privateLinkScopeId '{guid}' "
                                                "exists in this subscription.")

    def _pl_resource(self, scope_id: str) -> dict:
        scope = self.engine.store.get_obj(scope_id)
        if scope is None:
            self.engine._missing(parse(scope_id), types.lookup("microsoft.hybridcompute/privatelinkscopes"))
        return {"id": f"{scope['id']}/privateLinkResources/{cat.ARC_GROUP_ID}", "name": cat.ARC_GROUP_ID,
                "type": "Microsoft.HybridCompute/privateLinkScopes/privateLinkResources",
                "properties": {"groupId": cat.ARC_GROUP_ID, "requiredMembers": list(cat.ARC_REQUIRED_MEMBERS),
                               "requiredZoneNames": [z.private_zone for z in cat.ARC_ZONES]}}

    def _action(self, method, route, api_version, ns) -> Result:
        """POST actions on a resource (the last path segment names the action)."""
        item_key = route.type_key.rsplit("/", 1)[0]
        action = route.type_key.rsplit("/", 1)[1]
        rtype = types.lookup(item_key)
        if rtype is None or method != "POST":
            self._unknown_type(api_version, route, ns)
        self._check_type_version(api_version, rtype)
        item = route.id.rsplit("/", 1)[0]
        obj = self.engine.store.get_obj(item)
        if obj is None:
            self.engine._missing(parse(item), rtype)
        if rtype.key == "microsoft.kubernetes/connectedclusters" and action == "listclusterusercredential":
            from arclink.arm.behaviour import refuse
            from arclink.model.rules import apl012

            if (obj.get("properties") or {}).get("privateLinkState") == "Enabled":
                raise refuse("apl012", "FeatureNotSupportedWithPrivateLink",
                             "Cluster Connect (listClusterUserCredential) is not supported on a private link enabled "
                             "connected cluster. " + apl012.CLI_FEATURES_MESSAGE)
            return Result(200, {"hybridConnectionConfig": None,
                                "kubeconfigs": [{"name": "credentialName1", "value": ""}]})
        raise ArmError(404, "InvalidResourceType", f"The action '{action}' is not offered on '{rtype.type}'.")

    # --- api-version policy --------------------------------------------------------------
    def _strict(self, v: str | None, listed) -> bool:
        """Refuse a missing or malformed api-version (unless checks are off); True when ``v`` must
        also be one of the versions the route serves."""
        mode = self.config.api_version_check
        if mode == "off":
            return False
        if not v:
            raise bad_request("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is "
                                                            "required for all requests.")
        if not _VERSION.match(v):
            raise bad_request("InvalidApiVersionParameter", f"The api-version '{v}' is invalid. The supported versions "
                                                            f"are '{','.join(sorted(listed, reverse=True))}'.")
        return mode == "strict"

    def _version(self, v: str | None, allowed=None) -> None:
        """A provider-level route; ``allowed`` None takes any well-formed version."""
        if self._strict(v, allowed or types.RESOURCES_VERSIONS) and allowed is not None and v not in allowed:
            raise bad_request("InvalidApiVersionParameter", f"The api-version '{v}' is invalid. The supported versions "
                                                            f"are '{','.join(sorted(allowed, reverse=True))}'.")

    def _check_type_version(self, v, rtype: types.RType, location: str | None = None) -> None:
        if self._strict(v, rtype.versions) and v not in rtype.versions:
            short = rtype.type.split("/", 1)[1]
            raise bad_request("NoRegisteredProviderFound",
                              f"No registered resource provider found for location '{location or 'global'}' and API "
                              f"version '{v}' for type '{short}'. The supported api-versions are "
                              f"'{', '.join(sorted(rtype.versions, reverse=True))}'. The supported locations are "
                              "'westeurope, northeurope, eastus, eastus2, westus2, westus3, southeastasia, ...'.")

    def _type(self, route: Route, v, ns_display: str) -> types.RType:
        rtype = types.lookup(route.type_key)
        if rtype is None:
            self._unknown_type(v, route, ns_display)
        self._check_type_version(v, rtype)
        return rtype

    def _unknown_type(self, v, route: Route, ns: str):
        if self.config.api_version_check != "off" and not v:
            raise bad_request("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is "
                                                            "required for all requests.")
        ns_low = route.type_key.split("/")[0]
        if ns_low not in types.NAMESPACES:
            raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{ns or ns_low}' is invalid. This "
                                                            f"emulator serves {', '.join(types.NAMESPACES.values())}.")
        short = route.type_key.split("/", 1)[1] if "/" in route.type_key else route.type_key
        supported = sorted({x for t in types.namespace_types(ns_low) for x in t.versions}, reverse=True)
        raise ArmError(404, "InvalidResourceType", f"The resource type '{short}' could not be found in the namespace "
                                                   f"'{types.NAMESPACES[ns_low]}' for api version '{v}'. The supported "
                                                   f"api-versions are '{','.join(supported[:12])}'.")


# --- helpers -----------------------------------------------------------------------------------------


def _publisher(store, live):
    def changed() -> None:
        from arclink.arm.behaviour import onprem_of
        from arclink.model.arm_codec import index_from_resources

        try:
            live.publish(index_from_resources(store.model_objects(), onprem_of(store)))
        except Exception:  # keep the last good model
            log.exception("live model not rebuilt")
    return changed


def _query_get(query: dict, name: str) -> str | None:
    if name in query:
        return query[name]
    for k, v in query.items():
        if k.lower() == name:
            return v
    return None


def _only(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise ArmError(405, "MethodNotAllowed", f"The method '{method}' is not allowed here; use {' or '.join(allowed)}.")


def _method_not_allowed(method: str, rtype: str) -> ArmError:
    return ArmError(405, "MethodNotAllowed", f"The method '{method}' is not supported for '{rtype}'.")


def _json_object(body: bytes) -> dict:
    if not body or not body.strip():
        raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                   "the body is empty; send a JSON object.")
    try:
        obj = _dec.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise bad_request("InvalidRequestContent", f"The request content was invalid and could not be deserialized: "
                                                   f"{exc}.") from None
    if not isinstance(obj, dict):
        raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                   f"expected a JSON object, got {type(obj).__name__}.")
    return obj


def _location_of(body: bytes) -> str | None:
    if not body or b'"location"' not in body:
        return None
    try:
        obj = _dec.decode(body)
        return obj.get("location") if isinstance(obj, dict) and isinstance(obj.get("location"), str) else None
    except (msgspec.DecodeError, UnicodeDecodeError, ValueError):
        return None


async def _read_body(receive, headers: dict) -> bytes:
    cl = headers.get("content-length")
    if cl and cl.isdigit() and int(cl) > MAX_BODY:
        raise ArmError(413, "RequestEntityTooLarge", f"The request body is {int(cl)} bytes; the limit is {MAX_BODY} "
                                                     "bytes (4 MB).")
    chunks, size = [], 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            break
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ArmError(413, "RequestEntityTooLarge", f"The request body is over the limit of {MAX_BODY} bytes (4 MB).")
        chunks.append(chunk)
        if not msg.get("more_body"):
            break
    return b"".join(chunks)


async def _send(send, result: Result, head: bool = False) -> None:
    body = result.body
    if body is None:
        payload = b""
    elif isinstance(body, (bytes, bytearray)):
        payload = bytes(body)
    else:
        payload = _enc.encode(body)
    hdrs = [(b"x-ms-request-id", str(uuid.uuid4()).encode())]
    if payload or result.status not in (202, 204):
        hdrs.append((b"content-type", b"application/json; charset=utf-8"))
    if result.status == 204 or head:
        payload = b""
    hdrs.append((b"content-length", str(len(payload)).encode()))
    for k, v in result.headers.items():
        hdrs.append((k.lower().encode(), str(v).encode()))
    await send({"type": "http.response.start", "status": result.status, "headers": hdrs})
    await send({"type": "http.response.body", "body": payload})
