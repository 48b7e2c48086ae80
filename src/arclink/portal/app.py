"""The portal as an ASGI app under ``/portal/`` on the emulator's HTTPS port.

``with_portal(upstream, portal)`` answers ``/portal/...`` and hands every other request to
``upstream`` (the token service in front of ARM) untouched. Nothing but the sign-in page and the
static files is served without a session. Writes are forms (POST, CSRF token, then a redirect);
``/portal/events`` streams server-sent events: ``change`` when a cluster's status changes or a
computation of the live model starts, ``ready`` when one finishes (``computed.Computations``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import mimetypes
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from importlib import resources
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, quote, urlencode

from arclink import asgi
from arclink.model.live import LiveState
from arclink.portal import signin, views
from arclink.portal.bridge import Bridge, Upstream
from arclink.portal.computed import Computations
from arclink.portal.html import bare_page, e
from arclink.portal.session import COOKIE, Session, Sessions

log = logging.getLogger("arclink.portal")
PREFIX = "/portal"
MAX_FORM = 64 * 1024
ISOLATE = True  # the computation in a child process (measured in bench/portal_bench.py --in-thread)
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list = field(default_factory=list)
    content_type: str = "text/html; charset=utf-8"


def html(text: str, status: int = 200) -> Response:
    return Response(status, text.encode())


def redirect(location: str, status: int = 303) -> Response:
    return Response(status, b"", [(b"location", location.encode())])


@dataclass
class Request:
    method: str
    path: str  # below /portal
    query: dict
    form: dict
    headers: dict
    session: Session | None
    sid: str | None
    portal: "Portal"

    @property
    def fragment(self) -> bool:
        """The page's script asks again for what it shows (a live update)."""
        return "x-portal-fragment" in self.headers

    @property
    def base(self) -> str:
        return f"https://{self.headers.get('host', 'localhost')}"


class Portal:
    """What the portal needs: the upstream app, the live model, and the tenant's facts; ``close()`` stops
    its background computation."""

    def __init__(self, upstream: Upstream, live: LiveState, *, tenant: str, subscription: str,
                 static_token: str, entra: bool = True) -> None:
        self.bridge = Bridge(upstream)
        self.live, self.tenant, self.subscription = live, tenant, subscription
        self.entra = entra
        self._static = static_token.encode()
        self.sessions = Sessions()
        self.status_changes = 0  # bumped by every connectivity report: the live events' second clock
        self.computations = Computations(live, views.render_parts, isolate=ISOLATE)
        recorded = live.record_connectivity
        if recorded is not None:
            def record(*args: Any) -> None:
                recorded(*args)
                self.status_changes += 1
            live.record_connectivity = record
        told = getattr(live, "changed", None)  # ARM's nudge after each acknowledged write
        if callable(told):
            def changed() -> None:
                told()
                self.computations.changed()
            setattr(live, "changed", changed)  # the emulator's StoreLiveState; a plain LiveState has none

    def close(self) -> None:
        self.computations.close()

    def static_token_matches(self, token: str) -> bool:
        return hmac.compare_digest(token.strip().encode("latin-1", "replace"), self._static)

    def clock(self) -> tuple[int, bool, int]:
        """What the event stream watches. Never the live model itself: reading its version may build
        the index, which is the background computation's work, not the event loop's."""
        return (*self.computations.clock(), self.status_changes)

    async def handle(self, scope: dict, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.bridge.host = headers.get("host", self.bridge.host)
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no session
            pass
        sid = cookies[COOKIE].value if COOKIE in cookies else None
        path = scope["path"][len(PREFIX):] or "/"
        method = scope["method"]
        try:
            form = await _read_form(receive) if method == "POST" else {}
        except ValueError as exc:
            await _send(send, html(bare_page("Request refused", f"<p role=alert>{e(exc)}</p>"), 400), method)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        req = Request(method, path, query, form, headers, self.sessions.get(sid), sid, self)
        if path.startswith("/static/"):
            await _send(send, _static(path[len("/static/"):]), method)
            return
        if path.startswith("/signin") or path == "/signout":
            resp = await signin.handle(req, cookies)
        elif req.session is None:
            back = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            resp = redirect(f"{PREFIX}/signin?{urlencode({'next': back})}", 303)
        elif path == "/events":
            self.computations.start()
            await self.events(req, receive, send)
            return
        elif method == "POST" and not hmac.compare_digest(form.get("csrf", ""), req.session.csrf):
            resp = html(bare_page("Request refused", "<p role=alert>The form is out of date; go back, reload the "
                                                     "page and send it again.</p>"), 403)
        else:
            try:
                resp = await views.dispatch(req)
            except Exception:  # a bug: a page saying so, never a traceback
                log.exception("portal error on %s %s", method, scope["path"])
                resp = html(bare_page("Something went wrong", "<p role=alert>The portal hit an internal error; "
                                                               "see the emulator's log.</p>"), 500)
        await _send(send, resp, method)

    async def events(self, req: Request, receive: Receive, send: Send) -> None:
        """Server-sent events: one ``change`` event whenever the live model or a cluster's status changes."""
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream"), (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no")]})
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.body", "body": b"retry: 1000\n\n", "more_body": True})
            last = self.clock()
            while not gone.is_set():
                try:
                    await asyncio.wait_for(gone.wait(), 0.3)
                except asyncio.TimeoutError:
                    pass
                now = self.clock()
                if now != last and not gone.is_set():
                    ready = now[0] != last[0]  # a computation finished: the picture and findings are new
                    last = now
                    kind = "ready" if ready else "change"
                    await send({"type": "http.response.body", "more_body": True,
                                "body": f"event: {kind}\ndata: {now[0]}.{now[2]}\n\n".encode()})
        except (OSError, RuntimeError):  # the browser went away mid-send
            pass
        finally:
            watcher.cancel()


def with_portal(upstream: Upstream, portal: Portal) -> Callable[[dict, Receive, Send], Awaitable[None]]:
    """``upstream`` with the portal answering under ``/portal``."""

    async def app(scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == PREFIX or scope["path"].startswith(PREFIX + "/")):
            if scope["path"] == PREFIX:
                await _send(send, redirect(PREFIX + "/", 308), scope["method"])
                return
            await portal.handle(scope, receive, send)
            return
        await upstream(scope, receive, send)

    for name in ("set_base_url", "config", "engine", "live"):  # what callers read off the app stays reachable
        if hasattr(upstream, name):
            setattr(app, name, getattr(upstream, name))
    return app


_SECURITY = [(b"cache-control", b"no-store"), (b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
             (b"referrer-policy", b"no-referrer"),
             (b"content-security-policy", b"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                          b"frame-ancestors 'none'; form-action 'self'")]


async def _send(send: Send, resp: Response, method: str) -> None:
    headers = [(b"content-type", resp.content_type.encode()), (b"content-length", str(len(resp.body)).encode()),
               *_SECURITY, *resp.headers]
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else resp.body})


def _static(name: str) -> Response:
    if "/" in name or name.startswith(".") or not name:
        return html(bare_page("Not found", "<p>No such file.</p>"), 404)
    try:
        data = resources.files("arclink.portal").joinpath("static", name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, OSError):
        return html(bare_page("Not found", "<p>No such file.</p>"), 404)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(200, data, [], kind + ("; charset=utf-8" if kind.startswith("text/") or kind.endswith("script")
                                           else ""))


async def _read_form(receive: Receive) -> dict:
    try:
        body = await asgi.read_body(receive, MAX_FORM)
    except asgi.BodyTooLarge:
        raise ValueError(f"The form is over the limit of {MAX_FORM} bytes.") from None
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise ValueError("The form is not UTF-8 form data.") from None


def quote_next(path: str) -> str:
    return quote(path, safe="/?=&")
