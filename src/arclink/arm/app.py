"""The ARM front door as an ASGI app: auth, api-version policy, body limits, routing, errors.

``create_app(store, live, config)`` returns a plain ASGI callable (no per-request
framework routing: every ARM path goes through ``routes.parse`` and the generic
``Engine``), plus the control API under ``/_arclink/``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from arclink.arm import auth, control, generic_list, tenancy, types
from arclink.arm.api_versions import VersionPolicy
from arclink.arm.config import ArmConfig
from arclink.arm.engine import PAGE_SIZE, Engine, Result
from arclink.arm.errors import ArmError, bad_request, write_failed
from arclink.arm.live import LiveModel, PublishOnChange, StoreLiveState
from arclink.arm.reads import PlainReads, send_stored
from arclink.arm.resources import hooks_for
from arclink.arm.routes import Route, parse
from arclink.arm.store import Store, StoreWriteError
from arclink.arm.wire import (MAX_BODY, Message, Receive, Send, json_object, location_of, method_not_allowed, only,
                              query_get, read_body, send_result)
from arclink.model import catalogue as cat
from arclink.model.live import LiveState

__all__ = ["MAX_BODY", "ArmApp", "ArmConfig", "create_app"]

log = logging.getLogger("arclink.arm")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def create_app(store: Store, live: LiveState, config: ArmConfig) -> ArmApp:
    """The emulator's ASGI app over ``store``, publishing to ``live``.

    ``live`` is best an ``arm.live.StoreLiveState`` (rebuilt lazily after writes); a plain
    ``model.live.LiveState`` works too and gets a rebuilt index published after every write.
    """
    model: LiveModel = live if isinstance(live, StoreLiveState) else PublishOnChange(store, live)
    return ArmApp(Engine(store, base_url=config.base_url), model, config)


class ArmApp:
    def __init__(self, engine: Engine, live: LiveModel, config: ArmConfig) -> None:
        self.engine, self.live, self.config = engine, live, config
        self.versions = VersionPolicy(config)
        self._token = config.token.encode()
        self._verified = auth.VerifiedTokens()
        self._reads = PlainReads(self._token, self._verified, config)
        self._plain_get: str | None = None  # set by _one when a GET is answered with the stored body as it is

    def set_base_url(self, url: str) -> None:
        self.config.base_url = url
        self.engine.base_url = url

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
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
        if method == "GET" and (body := self._reads.answer(scope, self.engine.store.bodies)) is not None:
            await send_stored(send, body)
            return
        path = scope["path"]
        try:
            result = await self._handle(scope, receive, method, path)
        except ArmError as exc:
            result = Result(exc.status, exc.body(), exc.headers)
        except Exception:  # a bug: still answer in ARM's shape, and say so in the log
            log.exception("internal error on %s %s", method, path)
            result = Result(500, {"error": {"code": "InternalServerError",
                                            "message": "The emulator hit an internal error; see its log."}})
        await send_result(send, result, head=method == "HEAD")

    async def _handle(self, scope: Message, receive: Receive, method: str, path: str) -> Result:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path == "/_arclink/health":
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            return control.health(self, query)
        auth.check_bearer(headers.get("authorization"), static_token=self._token, tenant=self.config.tenant,
                          authority=self.config.base_url, key=self.config.signing_key, verified=self._verified)
        body = await read_body(receive, headers)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        if path.lower().startswith("/_arclink/principals"):
            return auth.principals(self.config.principals, self.config.tenant, method,
                                   [p for p in path.split("/") if p][1:], body)
        if path.startswith("/_arclink/"):
            return await self._durably(lambda: control.handle(self, method, path, query, body))
        route = parse(path)
        result = await self._durably(lambda: self._dispatch_noting_reads(method, route, query, body, headers, path,
                                                                          scope))
        if method in ("PUT", "PATCH", "DELETE", "POST") and result.status < 300:
            self.live.changed()
        return result

    async def _durably(self, work: Callable[[], Result]) -> Result:
        """``work()``, answered only once the writes it made are on disk (group commit).

        A write that did not reach the disk is answered with the cause (memory is already
        as it was before it)."""
        store = self.engine.store
        store.take_futures()
        try:
            result = work()
        except StoreWriteError as exc:
            raise write_failed(exc.disk_full, str(exc)) from None
        finally:
            futures = store.take_futures()
        if futures:
            outcomes = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures), return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, StoreWriteError):
                    raise write_failed(outcome.disk_full, str(outcome))
                if isinstance(outcome, BaseException):
                    raise outcome
        return result

    def _dispatch_noting_reads(self, method: str, route: Route, query: dict[str, str], body: bytes,
                               headers: dict[str, str], path: str, scope: Message) -> Result:
        """``dispatch``, remembering a GET answered with a stored body as it is, so the next GET of
        the same URL is answered by ``PlainReads`` without routing (synchronous: no other request
        can run between the note and its reading)."""
        self._plain_get = None
        result = self.dispatch(method, route, query, body, headers, path)
        if self._plain_get is not None and method == "GET" and result.status == 200 and not body:
            self._reads.remember(scope, self._plain_get)
        self._plain_get = None
        return result

    # --- dispatch -------------------------------------------------------------------------
    def dispatch(self, method: str, route: Route, query: dict[str, str], body: bytes, headers: dict[str, str],
                 path: str) -> Result:
        api_version = query_get(query, "api-version")
        eng = self.engine
        if route.kind == "subscriptions":
            self.versions.provider(api_version)
            only(method, "GET")
            return Result(200, tenancy.subscriptions(self.config.subscription, list(eng.store.bodies), eng.store.meta,
                                                     self.config.tenant))
        if route.kind == "tenants":
            self.versions.provider(api_version)
            only(method, "GET")
            return Result(200, tenancy.tenants(self.config.tenant, eng.store.meta))
        if route.kind == "operations":
            self.versions.provider(api_version)
            only(method, "GET")
            ns = types.NAMESPACES.get(route.ns.lower())
            if ns is None:
                raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{route.ns}' is invalid.")
            ops = [{"name": f"{t.type}/{verb}", "display": {"provider": ns, "resource": t.type.split("/", 1)[1],
                                                              "operation": f"{verb} {t.type.rsplit('/', 1)[-1]}"}}
                   for t in types.namespace_types(ns.lower()) for verb in ("read", "write", "delete")]
            return Result(200, {"value": ops})
        if route.kind == "unknown":
            self.versions.provider(api_version)
            raise ArmError(404, "InvalidRequestUri" if not route.sub else "InvalidResourceType",
                           f"The request path '{path}' does not name a resource, collection or action this service "
                           "offers.")
        if not _GUID.fullmatch(route.sub):
            raise bad_request("InvalidSubscriptionId", f"The provided subscription identifier '{route.sub}' is "
                                                       "malformed or invalid.")
        if route.kind == "subscription":
            self.versions.provider(api_version)
            only(method, "GET")
            return Result(200, tenancy.subscription(route.sub, eng.store.meta, self.config.tenant))
        if route.kind == "locations":
            self.versions.provider(api_version)
            only(method, "GET")
            return Result(200, tenancy.locations(route.sub))
        if route.kind in ("rgs", "rg", "providers", "provider", "provider_action"):
            self.versions.provider(api_version, types.RESOURCES_VERSIONS)
            return self._resources_rp(method, route, query, body, headers, api_version, path)
        if route.kind == "generic_list":
            self.versions.provider(api_version, types.RESOURCES_VERSIONS)
            only(method, "GET")
            if route.rg:
                eng.require_rg(route.sub, route.rg)
            prefix = route.id + ("/providers/" if route.rg else "/resourcegroups/")
            keys = [k for k in eng.store.bodies if k.startswith(prefix) and k.count("/") == 8
                    and "/providers/" in k[len(route.id):]]
            rows = generic_list.select((o for k in keys if (o := eng.store.get_obj(k))), query)
            return Result(200, generic_list.page(rows, query, f"{eng.base_url}{path}", PAGE_SIZE))
        if route.kind == "location_op":
            self.versions.provider(api_version)
            return self._location_op(method, route)
        if route.kind == "sub_list":
            self.versions.served_type(route, api_version, route.ns)
            only(method, "GET")
            return eng.list(eng.store.list_keys(route.key), query, path)
        ns = route.type_key.split("/")[0]
        rtype = types.lookup(route.type_key)
        if route.kind == "collection":
            if route.type_key in ("microsoft.network/privatednszones/all", "microsoft.network/privatednszones/recordsets"):
                self.versions.provider(api_version, types.PRIVATEDNS_VERSIONS)
                only(method, "GET")
                zk = route.key.rsplit("/", 1)[0]
                if eng.store.get(zk) is None:
                    eng.missing(parse(zk), types.lookup("microsoft.network/privatednszones"))
                keys = [k for t in ("a", "aaaa", "cname", "mx", "ptr", "soa", "srv", "txt")
                        for k in eng.store.list_keys(f"{zk}/{t}")]
                return eng.list(keys, query, path)
            if route.type_key == "microsoft.hybridcompute/privatelinkscopes/privatelinkresources":
                self.versions.provider(api_version, types.HYBRIDCOMPUTE_VERSIONS)
                return Result(200, {"value": [self._pl_resource(route.id.rsplit("/", 1)[0])], "nextLink": None})
            if rtype is None:
                return self._action(method, route, api_version, ns)
            self.versions.of_type(api_version, rtype)
            only(method, "GET")
            if route.rg:
                eng.require_rg(route.sub, route.rg)
            parent = route.parent_id if route.parent_id and not route.names else \
                route.id.rsplit("/", 1)[0] if route.names else None
            if parent and eng.store.get(parent) is None:
                pr = parse(parent)
                eng.missing(pr, types.lookup(pr.type_key))
            return eng.list(eng.store.list_keys(route.key), query, path)
        # a single resource
        if route.type_key == "microsoft.hybridcompute/privatelinkscopes/privatelinkresources":
            self.versions.provider(api_version, types.HYBRIDCOMPUTE_VERSIONS)
            only(method, "GET")
            if route.names[-1].lower() != cat.ARC_GROUP_ID:
                raise ArmError(404, "ResourceNotFound", f"The private link resource '{route.names[-1]}' was not found; "
                                                        f"the only one is '{cat.ARC_GROUP_ID}'.")
            return Result(200, self._pl_resource(route.id.rsplit("/", 2)[0]))
        if rtype is None:
            self.versions.unknown_type(api_version, route, ns)
        self.versions.of_type(api_version, rtype, location_of(body))
        if method == "HEAD":
            return Result(200 if eng.store.get(route.key) else 404)
        return self._one(method, route, rtype, body, api_version, headers)

    def _one(self, method: str, route: Route, rtype: types.RType, body: bytes, api_version: str | None,
             headers: dict[str, str]) -> Result:
        """GET, PUT, PATCH or DELETE of one resource."""
        eng = self.engine
        if method == "GET":
            result = eng.get(route, rtype)
            self._plain_get = route.key
            return result
        if method == "PUT":
            return eng.put(route, rtype, json_object(body), api_version, headers)
        if method == "PATCH":
            return eng.patch(route, rtype, json_object(body), api_version, headers)
        if method == "DELETE":
            return eng.delete(route, rtype, api_version, headers)
        raise method_not_allowed(method, rtype.type)

    # --- Microsoft.Resources ----------------------------------------------------------------
    def _resources_rp(self, method: str, route: Route, query: dict[str, str], body: bytes, headers: dict[str, str],
                      api_version: str | None, path: str) -> Result:
        eng = self.engine
        rg_type = types.T["microsoft.resources/resourcegroups"]
        if route.kind == "rgs":
            only(method, "GET")
            return eng.list(eng.store.list_keys(route.key), query, path)
        if route.kind == "rg":
            if method == "HEAD":
                return Result(204 if eng.store.get(route.key) else 404)
            res = self._one(method, route, rg_type, body, api_version, headers)
            if method == "DELETE" and res.status == 200:  # deleting a group is a long-running operation
                res = Result(202, None, eng.operation(route, rg_type, api_version, kind="delete", result_status=200))
            return res
        if route.kind == "providers":
            only(method, "GET")
            return Result(200, {"value": [self._provider(route.sub, ns) for ns in types.NAMESPACES.values()]})
        ns = types.NAMESPACES.get(route.ns.lower())
        if ns is None:
            raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{route.ns}' is invalid. This "
                                                            f"emulator serves {', '.join(types.NAMESPACES.values())}.")
        if route.kind == "provider":
            only(method, "GET")
            return Result(200, self._provider(route.sub, ns))
        only(method, "POST")
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
    def _location_op(self, method: str, route: Route) -> Result:
        only(method, "GET")
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

    def _pl_resource(self, scope_id: str) -> dict[str, Any]:
        scope = self.engine.store.get_obj(scope_id)
        if scope is None:
            self.engine.missing(parse(scope_id), types.lookup("microsoft.hybridcompute/privatelinkscopes"))
        return {"id": f"{scope['id']}/privateLinkResources/{cat.ARC_GROUP_ID}", "name": cat.ARC_GROUP_ID,
                "type": "Microsoft.HybridCompute/privateLinkScopes/privateLinkResources",
                "properties": {"groupId": cat.ARC_GROUP_ID, "requiredMembers": list(cat.ARC_REQUIRED_MEMBERS),
                               "requiredZoneNames": [z.private_zone for z in cat.ARC_ZONES]}}

    def _action(self, method: str, route: Route, api_version: str | None, ns: str) -> Result:
        """POST actions on a resource (the last path segment names the action)."""
        item_key = route.type_key.rsplit("/", 1)[0]
        action = route.type_key.rsplit("/", 1)[1]
        rtype = types.lookup(item_key)
        if rtype is None or method != "POST":
            self.versions.unknown_type(api_version, route, ns)
        self.versions.of_type(api_version, rtype)
        item = route.id.rsplit("/", 1)[0]
        obj = self.engine.store.get_obj(item)
        if obj is None:
            self.engine.missing(parse(item), rtype)
        act = hooks_for(rtype.key).actions.get(action)
        if act is not None:
            return Result(200, act(obj))
        raise ArmError(404, "InvalidResourceType", f"The action '{action}' is not offered on '{rtype.type}'.")
