"""The generic resource handler: PUT/GET/PATCH/DELETE/list for every type, driven by ``types.T``.

Wire-independent: the HTTP app, ``serve --topology`` and ``state import`` all call
``Engine.put``/``delete``. Type-specific behaviour (a private endpoint creating its
connection on the scope, zone groups writing A records...) is in ``arm.resources``,
one module per resource family; body validation is in ``arm.validation``.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections import OrderedDict
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

import msgspec

from arclink.arm import types
from arclink.arm.errors import ArmError, bad_request, missing_registration, not_found, rg_not_found
from arclink.arm.hooks import Body
from arclink.arm.model_view import candidate_index
from arclink.arm.resources import hooks_for
from arclink.arm.routes import Route, parse
from arclink.arm.store import Store
from arclink.arm.validation import validate_body
from arclink.model import catalogue as cat

PAGE_SIZE = 100


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class Result:
    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


class Engine:
    def __init__(self, store: Store, *, base_url: str = "", principal: str = "arclink@emulator") -> None:
        self.store = store
        self.base_url = base_url
        self.principal = principal
        self.operations: OrderedDict[str, dict] = OrderedDict()

    # --- helpers ------------------------------------------------------------------------
    def registered(self, sub: str, ns: str) -> bool:
        if ns.lower() == "microsoft.resources":
            return True
        p = self.store.get_obj(f"/subscriptions/{sub}/providers/{ns}")
        return p is not None and p.get("registrationState") == "Registered"

    def require_rg(self, sub: str, rg: str) -> Body:
        obj = self.store.get_obj(f"/subscriptions/{sub}/resourcegroups/{rg}")
        if obj is None:
            raise rg_not_found(rg)
        return obj

    def system_data(self, old: Body | None) -> Body:
        t = now_iso()
        sd = dict((old or {}).get("systemData") or {"createdBy": self.principal, "createdByType": "User", "createdAt": t})
        sd.update(lastModifiedBy=self.principal, lastModifiedByType="User", lastModifiedAt=t)
        return sd

    def operation(self, route: Route, rtype: types.RType | None, api_version: str | None, *, kind: str, result_status: int,
                  result: Any = None, location: str = "westeurope") -> dict[str, str]:
        """Record a finished operation; the headers the SDK pollers follow to it."""
        op_id = str(uuid.uuid4())
        ns = rtype.namespace if rtype else "Microsoft.Resources"
        loc = cat.normalize_location(location) or "global"
        status_url = f"{self.base_url}/subscriptions/{route.sub}/providers/{ns}/locations/{loc}/operationStatuses/{op_id}?api-version={api_version}"
        result_url = f"{self.base_url}/subscriptions/{route.sub}/providers/{ns}/locations/{loc}/operationResults/{op_id}?api-version={api_version}"
        t = now_iso()
        self.operations[op_id] = {"status": {"id": status_url.split("?")[0].replace(self.base_url, ""), "name": op_id,
                                             "status": "Succeeded", "startTime": t, "endTime": t, "percentComplete": 100,
                                             "properties": {}},
                                  "kind": kind, "result_status": result_status, "result": result}
        while len(self.operations) > 20000:
            self.operations.popitem(last=False)
        return {"Azure-AsyncOperation": status_url, "Location": result_url, "x-ms-retry-after-ms": "10"}

    def operation_result(self, op_id: str, which: str) -> Result:
        op = self.operations.get(op_id) or self.operations.get(op_id.lower())
        if op is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
        if which == "operationstatuses":
            return Result(200, op["status"])
        return Result(op["result_status"], op["result"])

    # --- reads ----------------------------------------------------------------------------
    def get(self, route: Route, rtype: types.RType) -> Result:
        body = self.store.get(route.key)
        if body is None:
            self.missing(route, rtype)
        return Result(200, body)

    def missing(self, route: Route, rtype: types.RType | None) -> NoReturn:
        """Raise the 404 ARM answers for ``route``: its resource group, its parent, or itself is missing."""
        if route.rg and route.kind != "rg":
            self.require_rg(route.sub, route.rg)
        if route.parent_id and self.store.get(route.parent_id) is None:
            raise ArmError(404, "ParentResourceNotFound", f"Can not perform requested operation on nested resource. "
                                                          f"Parent resource '{route.parent_id.rsplit('/', 1)[-1]}' not found.")
        name = route.names[-1] if route.names else route.id.rsplit("/", 1)[-1]
        if route.kind == "rg":
            raise rg_not_found(route.rg or "")
        raise not_found(rtype.type if rtype else route.type_key, name, route.rg)

    def list(self, keys: list[str], query: dict[str, str], url_path: str) -> Result:
        """One page of the resources ``keys`` name, with a nextLink when more follow."""
        try:
            skip = int(query.get("$skiptoken") or 0)
            top = int(query.get("$top") or PAGE_SIZE)
        except ValueError:
            raise bad_request("InvalidQueryParameterValue", "$top and $skiptoken must be integers.") from None
        top = max(1, min(top, 1000))
        page = keys[skip:skip + top]
        parts = [self.store.get(k) for k in page]
        body = b'{"value":[' + b",".join(p for p in parts if p is not None) + b"]"
        if skip + top < len(keys):
            # the query as received, encoded again: a nextLink is followed verbatim by strict clients
            q = urlencode([(k, v) for k, v in query.items() if k != "$skiptoken"] + [("$skiptoken", str(skip + top))],
                          quote_via=quote, safe="$'/")
            body += b',"nextLink":' + msgspec.json.encode(f"{self.base_url}{url_path}?{q}")
        return Result(200, body + b"}")

    # --- writes ---------------------------------------------------------------------------
    def check_write(self, route: Route, rtype: types.RType) -> None:
        if not self.registered(route.sub, rtype.namespace):
            raise missing_registration(rtype.namespace)
        if route.rg and rtype.key != "microsoft.resources/resourcegroups":
            self.require_rg(route.sub, route.rg)
        if route.parent_id is not None and self.store.get(route.parent_id) is None:
            raise ArmError(404, "ParentResourceNotFound", f"Can not perform requested operation on nested resource. "
                                                          f"Parent resource '{route.parent_id.rsplit('/', 1)[-1]}' not found.")
        if len(route.names) > 1:
            parent = route.id.rsplit("/", 2)[0]
            if self.store.get(parent) is None:
                raise ArmError(404, "ParentResourceNotFound", f"Can not perform requested operation on nested resource. "
                                                              f"Parent resource '{parent.rsplit('/', 1)[-1]}' not found.")

    def canonical_id(self, route: Route, rtype: types.RType) -> str:
        """The id with ARM's casing of segment names and types, and the caller's names."""
        if rtype.key == "microsoft.resources/resourcegroups":
            return f"/subscriptions/{route.sub}/resourceGroups/{route.rg}"
        tparts = rtype.type.split("/")
        name = route.names[-1]
        if rtype.lower_name:
            name = name.lower()
        if route.parent_id:
            return f"{route.parent_id}/providers/{tparts[0]}/{tparts[1]}/{name}"
        segs = [f"/subscriptions/{route.sub}/resourceGroups/{route.rg}/providers/{tparts[0]}"]
        for t, n in zip(tparts[1:], route.names[:-1] + [name]):
            segs.append(f"{t}/{n}")
        return "/".join(segs)

    def put(self, route: Route, rtype: types.RType, body: Body, api_version: str | None,
            headers: dict[str, str] | None = None) -> Result:
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.check_write(route, rtype)
        name = route.names[-1] if route.names else route.rg
        name = name or ""
        if not rtype.name.fullmatch(name) or (rtype.key == "microsoft.resources/resourcegroups" and name.endswith(".")):
            raise bad_request("InvalidResourceName" if rtype.key != "microsoft.resources/resourcegroups" else "InvalidResourceGroupName",
                              f"The resource name '{name}' is invalid for type '{rtype.type}'. It must match "
                              f"{rtype.name.pattern} (see https://aka.ms/ResourceNameRules).", target=name)
        old = self.store.get_obj(route.key)
        _preconditions(headers, old)
        validate_body(rtype, body, old)
        new = self._commit(route, rtype, self.build(route, rtype, body, old), old)
        status = 200 if old is not None else 201
        out_headers: dict[str, str] = {}
        if rtype.put != "sync":
            out_headers = self.operation(route, rtype, api_version, kind="put", result_status=200, result=new,
                                         location=new.get("location") or "global")
        if "etag" in new:
            out_headers["ETag"] = new["etag"]
        return Result(status, new, out_headers)

    def _commit(self, route: Route, rtype: types.RType, new: Body, old: Body | None, *, prepare: bool = True) -> Body:
        """Write ``new`` with its side effects in one batch; returns the body as stored."""
        hooks = hooks_for(rtype.key)
        with self.store.batch():
            if prepare:
                hooks.prepare(self.store, route, new, old)
                if hooks.check_model:
                    candidate_index(self.store, route.key, new)
                props = new.setdefault("properties", {})
                if hooks.provisioning_state:
                    props["provisioningState"] = "Succeeded"
            if rtype.etag:
                new["etag"] = _etag(rtype)
            self.store.put(route.key, new)
            hooks.after_put(self.store, route, new, old)
        return self.store.get_obj(route.key) or new

    def build(self, route: Route, rtype: types.RType, body: Body, old: Body | None) -> Body:
        rid = old["id"] if old else self.canonical_id(route, rtype)
        new: Body = {"id": rid, "name": rid.rsplit("/", 1)[-1], "type": rtype.type}
        if rtype.tracked:
            loc = body.get("location")
            if rtype.global_location:
                if loc is not None and cat.normalize_location(loc) != "global":
                    raise bad_request("InvalidLocation", f"The location '{loc}' is invalid for {rtype.type}; use 'global'.",
                                      target="location")
                loc = "global"
            elif not loc:
                raise bad_request("LocationRequired", "The location property is required for this definition.",
                                  target="location")
            else:
                loc = cat.normalize_location(loc)
                if old and old.get("location") and old["location"] != loc:
                    raise bad_request("InvalidResourceLocation",
                                      f"The resource '{new['name']}' already exists in location '{old['location']}' in "
                                      f"resource group '{route.rg}'. A resource with the same name cannot be created in "
                                      f"location '{loc}'. Please select a new resource name.", target="location")
            new["location"] = loc
        if "kind" in body:
            new["kind"] = body["kind"]
        if rtype.tracked or "tags" in body or rtype.key == "microsoft.network/privatednszones":
            new["tags"] = dict(body.get("tags") or {})
        for k in ("identity", "plan", "managedBy", "extendedLocation", "_arclink"):
            if k in body:
                new[k] = copy.deepcopy(body[k])
        props = copy.deepcopy(body.get("properties") or {})
        for path, value in rtype.defaults.items():
            _set_default(new, props, path, value)
        new["properties"] = props
        new["systemData"] = self.system_data(old)
        return new

    def patch(self, route: Route, rtype: types.RType, body: Body, api_version: str | None,
              headers: dict[str, str] | None = None) -> Result:
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        if rtype.patch is None:
            raise ArmError(405, "MethodNotAllowed", f"The PATCH method is not supported for '{rtype.type}'.")
        self.check_write(route, rtype)
        old = self.store.get_obj(route.key)
        if old is None:
            self.missing(route, rtype)
        _preconditions(headers, old)
        if "tags" in body and body["tags"] is not None and not isinstance(body["tags"], dict):
            raise bad_request("InvalidRequestContent", "The request content was invalid: 'tags' must be an object.", "tags")
        if body.get("properties") is not None and not isinstance(body["properties"], dict):
            raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                       "'properties' must be an object.", "properties")
        new = copy.deepcopy(old)
        if "tags" in body:
            new["tags"] = dict(body.get("tags") or {})
        if rtype.patch == "merge":
            hooks_for(rtype.key).check_patch(body, old)
            for k, v in (body.get("properties") or {}).items():
                if k in _readonly_props(rtype):
                    continue
                new.setdefault("properties", {})[k] = copy.deepcopy(v)
            if "identity" in body:
                new["identity"] = copy.deepcopy(body["identity"])
            validate_body(rtype, {k: v for k, v in new.items() if k not in ("id", "name", "type", "systemData", "etag")},
                          old, patching=True)
        new["systemData"] = self.system_data(old)
        new = self._commit(route, rtype, new, old, prepare=rtype.patch == "merge")
        return Result(200, new, {"ETag": new["etag"]} if "etag" in new else {})

    def delete(self, route: Route, rtype: types.RType, api_version: str | None, headers: dict[str, str] | None = None) -> Result:
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        if not self.registered(route.sub, rtype.namespace):
            raise missing_registration(rtype.namespace)
        old = self.store.get_obj(route.key)
        if old is None:
            if route.rg and rtype.key != "microsoft.resources/resourcegroups":
                self.require_rg(route.sub, route.rg)
            if rtype.key == "microsoft.resources/resourcegroups":
                raise rg_not_found(route.rg or "")
            return Result(204)
        _preconditions(headers, old)
        with self.store.batch():
            hooks_for(rtype.key).before_delete(self.store, route, old)
            # children go with their parent: no refusals of their own, but their side effects
            for k in reversed(self.store.keys_under(route.key)):
                child = self.store.get_obj(k)
                ctype = types.lookup(_type_key(child))
                self.store.delete(k)
                if ctype is not None and child is not None:
                    hooks_for(ctype.key).after_delete(self.store, parse(k), child)
            self.store.delete(route.key)
            hooks_for(rtype.key).after_delete(self.store, route, old)
        if rtype.delete == "sync":
            return Result(200)
        hdrs = self.operation(route, rtype, api_version, kind="delete", result_status=204,
                              location=old.get("location") or "global")
        return Result(202, None, hdrs)


def _type_key(obj: Body | None) -> str:
    return ((obj or {}).get("type") or "").lower()


def _etag(rtype: types.RType) -> str:
    g = str(uuid.uuid4())
    return f'W/"{g}"' if rtype.namespace == "Microsoft.Network" and "privateDnsZones" not in rtype.type else g


def _preconditions(headers: dict[str, str], old: Body | None) -> None:
    im = headers.get("if-match")
    if im and im != "*":
        if old is None or old.get("etag") != im:
            raise ArmError(412, "PreconditionFailed", "The condition specified by the If-Match header was not met: the "
                                                      "resource's ETag has changed. GET it again and retry.")
    elif im == "*" and old is None:
        raise ArmError(412, "PreconditionFailed", "If-Match: * requires the resource to exist.")
    if headers.get("if-none-match") == "*" and old is not None:
        raise ArmError(412, "PreconditionFailed", "The resource already exists and If-None-Match: * was given.")


def _set_default(new: Body, props: Body, path: str, value: Any) -> None:
    parts = path.split(".")
    target = props if parts[0] == "properties" else new
    parts = parts[1:] if parts[0] == "properties" else parts
    for p in parts[:-1]:
        target = target.setdefault(p, {})
    if target.get(parts[-1]) is None:
        target[parts[-1]] = copy.deepcopy(value)


def _readonly_props(rtype: types.RType) -> set[str]:
    return {p.split(".", 1)[1] for p in rtype.readonly if p.startswith("properties.") and p.count(".") == 1}
