"""The portal's one way to the engine: ARM (and the token service) called in-process as ASGI.

Every read and write the portal makes is an ARM request to the emulator's own ASGI app with the
signed-in user's bearer token: the same routing, validation, refusals and durability as any SDK
call, and no second code path. ``Upstream`` is all the portal knows of ARM: an ASGI callable.

A list of 10,000 clusters is about 10 MB of JSON: decoded into dicts it is hundreds of thousands
of objects, and the garbage collector's full passes over them cost more than the decoding. A page
that needs a few fields of each item lists them typed (``list(..., item=SomeStruct)``): msgspec
decodes only those fields, into structs the collector does not track.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Awaitable, Callable, Optional, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec

log = logging.getLogger("arclink.portal")

API = {"Microsoft.Resources": "2022-09-01", "Microsoft.Kubernetes": "2024-01-01",
       "Microsoft.HybridCompute": "2024-07-10", "Microsoft.KubernetesConfiguration": "2023-05-01",
       "Microsoft.Network": "2024-05-01"}


class Upstream(Protocol):
    """The emulator's HTTPS app (token service in front of ARM), as composition hands it to the portal."""

    def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                 send: Callable[[dict], Awaitable[None]]) -> Awaitable[None]: ...


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status < 300

    @property
    def error(self) -> str:
        """ARM's (or Entra's) own message for a failed call."""
        b = self.body if isinstance(self.body, dict) else {}
        err = b.get("error")
        if isinstance(err, dict):
            return f"{err.get('code', 'Error')}: {err.get('message', '')}"
        return str(b.get("error_description") or err or f"HTTP {self.status}")


class Bridge:
    def __init__(self, upstream: Upstream, host: str = "127.0.0.1") -> None:
        self.upstream, self.host = upstream, host

    async def call(self, method: str, path: str, query: dict | None = None, body: bytes = b"",
                   headers: dict | None = None) -> Answer:
        status, raw = await self.call_raw(method, path, query, body, headers)
        return Answer(status, _decode(raw))

    async def call_raw(self, method: str, path: str, query: dict | None = None, body: bytes = b"",
                       headers: dict | None = None) -> tuple[int, bytes]:
        """One request to the upstream app: its status and body bytes."""
        hdrs = {"host": self.host, **(headers or {})}
        if body:
            hdrs["content-length"] = str(len(body))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "https", "path": path, "raw_path": path.encode(), "root_path": "",
                 "query_string": urlencode(query or {}).encode(),
                 "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in hdrs.items()],
                 "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 443)}
        sent = False

        async def receive() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, chunks = 500, []

        async def send(msg: dict) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            elif msg["type"] == "http.response.body":
                chunks.append(msg.get("body", b""))

        await self.upstream(scope, receive, send)
        return status, b"".join(chunks)

    async def arm(self, token: str, method: str, path: str, api: str, doc: Any = None) -> Answer:
        """One ARM request as the signed-in user; ``api`` names the provider whose api-version to use."""
        body = msgspec.json.encode(doc) if doc is not None else b""
        hdrs = {"authorization": f"Bearer {token}"}
        if body:
            hdrs["content-type"] = "application/json"
        return await self.call(method, path, {"api-version": API.get(api, api)}, body, hdrs)

    async def list(self, token: str, path: str, api: str, item: type | None = None) -> Answer:
        """Every item of an ARM collection: its pages followed through ``nextLink``, 1,000 at a time.

        With ``item`` (a msgspec struct) the items are decoded as that type: only its fields."""
        hdrs = {"authorization": f"Bearer {token}"}
        query = {"api-version": API.get(api, api), "$top": "1000"}
        items: list = []
        for _ in range(10_000):  # a nextLink that never ends is a bug upstream, not a reason to hang
            status, raw = await self.call_raw("GET", path, query, b"", hdrs)
            page = _page(raw, item) if status < 300 else None
            if page is None:
                ans = Answer(status, _decode(raw))
                return ans if not ans.ok else Answer(502, {"error": {
                    "code": "InvalidListPage", "message": f"ARM's list of {path} was not a list of resources."}})
            items += page.value
            more = page.nextLink
            if not more:
                return Answer(status, {"value": items})
            nxt = urlsplit(more)
            path, query = nxt.path, dict(parse_qsl(nxt.query, keep_blank_values=True))
        return Answer(508, {"error": {"code": "TooManyPages", "message": f"{path} pages without end."}})

    async def form(self, path: str, fields: dict) -> Answer:
        return await self.call("POST", path, None, urlencode(fields).encode(),
                               {"content-type": "application/x-www-form-urlencoded"})


def _decode(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw.decode("utf-8", "replace")


@lru_cache(maxsize=None)
def _page_type(item: type | None) -> Any:
    items: Any = list[item] if item is not None else list  # type: ignore[valid-type]
    return msgspec.defstruct("Page", [("value", items, msgspec.field(default_factory=list)),
                                      ("nextLink", Optional[str], None)])


def _page(raw: bytes, item: type | None) -> Any:
    """One page of a list (``value`` and ``nextLink``), its items as ``item``; None when it is not one.

    An item that is not of the type (ARM validated it, so a bug) is left out and logged, not the page."""
    try:
        return msgspec.json.decode(raw, type=_page_type(item))
    except msgspec.ValidationError:
        if item is None:
            return None
        loose = _page(raw, None)
        if loose is None:
            return None
        kept: list = []
        for doc in loose.value:
            try:
                kept.append(msgspec.convert(doc, item))
            except msgspec.ValidationError as exc:
                log.warning("portal: a listed resource left out (%s)", exc)
        return _page_type(item)(kept, loose.nextLink)
    except msgspec.DecodeError:
        return None
