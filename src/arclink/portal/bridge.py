"""The portal's one way to the engine: ARM (and the token service) called in-process as ASGI.

Every read and write the portal makes is an ARM request to the emulator's own ASGI app with the
signed-in user's bearer token: the same routing, validation, refusals and durability as any SDK
call, and no second code path. ``Upstream`` is all the portal knows of ARM: an ASGI callable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

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
        raw = b"".join(chunks)
        try:
            doc = json.loads(raw) if raw.strip() else None
        except ValueError:
            doc = raw.decode("utf-8", "replace")
        return Answer(status, doc)

    async def arm(self, token: str, method: str, path: str, api: str, doc: Any = None) -> Answer:
        """One ARM request as the signed-in user; ``api`` names the provider whose api-version to use."""
        body = json.dumps(doc).encode() if doc is not None else b""
        hdrs = {"authorization": f"Bearer {token}"}
        if body:
            hdrs["content-type"] = "application/json"
        return await self.call(method, path, {"api-version": API.get(api, api)}, body, hdrs)

    async def list(self, token: str, path: str, api: str) -> Answer:
        """Every item of an ARM collection: its pages followed through ``nextLink``, 1,000 at a time."""
        hdrs = {"authorization": f"Bearer {token}"}
        query = {"api-version": API.get(api, api), "$top": "1000"}
        items: list = []
        for _ in range(10_000):  # a nextLink that never ends is a bug upstream, not a reason to hang
            ans = await self.call("GET", path, query, b"", hdrs)
            if not ans.ok or not isinstance(ans.body, dict):
                return ans
            items += ans.body.get("value") or []
            more = ans.body.get("nextLink")
            if not more:
                return Answer(ans.status, {"value": items})
            nxt = urlsplit(more)
            path, query = nxt.path, dict(parse_qsl(nxt.query, keep_blank_values=True))
        return Answer(508, {"error": {"code": "TooManyPages", "message": f"{path} pages without end."}})

    async def form(self, path: str, fields: dict) -> Answer:
        return await self.call("POST", path, None, urlencode(fields).encode(),
                               {"content-type": "application/x-www-form-urlencoded"})
