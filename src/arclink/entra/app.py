"""The token service as an ASGI app in front of ARM on the same HTTPS port.

``with_entra(arm_app, service)`` answers the Entra paths and ``/metadata/endpoints`` (the only paths
without a bearer token) and hands every other request to ``arm_app`` untouched. The authority is
the address the client used (scheme and Host), so ``https://127.0.0.1:PORT`` and
``https://localhost:PORT`` each get documents naming themselves.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

from arclink import asgi, tokens
from arclink.entra import authorize, grant
from arclink.entra.documents import EntraError, cloud_metadata, openid_configuration, unknown_tenant
from arclink.principals import Registry

log = logging.getLogger("arclink.entra")
MAX_FORM = 64 * 1024
# Entra's multi-tenant aliases. MSAL opens them (``az logout`` and ``az account clear`` discover
# ``/organizations``); here each stands for the one tenant: its documents are the tenant's, and a
# client-credentials token asked for through one is the tenant's, as Entra issues it for the app's home tenant.
TENANT_ALIASES = ("organizations", "common")
ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


_SHAPES = {("v2.0", ".well-known", "openid-configuration"): "oidc-v2.0",
           (".well-known", "openid-configuration"): "oidc-v1",
           ("oauth2", "v2.0", "token"): "token-v2", ("oauth2", "token"): "token-v1",
           ("discovery", "v2.0", "keys"): "keys", ("discovery", "keys"): "keys",
           ("oauth2", "v2.0", "authorize"): "authorize", ("oauth2", "authorize"): "authorize",
           ("oauth2", "v2.0", "devicecode"): "devicecode", ("oauth2", "devicecode"): "devicecode"}


@dataclass
class EntraService:
    """One emulated tenant: its id, its service principals and the key that signs its tokens."""

    tenant: str
    registry: Registry
    key: tokens.SigningKey
    codes: authorize.CodeBook = field(default_factory=authorize.CodeBook)  # the portal's sign-ins

    def route(self, method: str, path: str) -> tuple[str, str] | None:
        """(what, tenant in the URL) when ``path`` is the token service's, else None (ARM's)."""
        segs = [s for s in path.split("/") if s]
        if len(segs) > 4:  # every token-service path has at most four segments; ARM's resource paths more
            return None
        low = [s.lower() for s in segs]
        if low == ["metadata", "endpoints"]:
            return "metadata", ""
        if len(segs) < 2:
            return None
        t, rest = segs[0], tuple(low[1:])
        what = _SHAPES.get(rest)
        if what == "oidc-v1" and low[0] == "adfs":
            what = "oidc-adfs"
        return (what, t) if what else None

    def answer(self, what: str, url_tenant: str, method: str, base: str, query: dict, form: dict) -> tuple[int, Any]:
        if what == "metadata":
            return 200, cloud_metadata(base, query.get("api-version"))
        tenant = self.tenant
        if url_tenant.lower() not in (tenant.lower(), "adfs", *TENANT_ALIASES):
            raise unknown_tenant(url_tenant)
        if what.startswith("oidc-"):
            return 200, openid_configuration(base, tenant, version=what[5:])
        if what == "keys":
            return 200, self.key.jwks()
        if what == "devicecode":
            raise EntraError(400, "unsupported_response_type", 70000,
                             "This emulator issues tokens to service principals only: use the client-credentials "
                             "grant (az login --service-principal, ClientSecretCredential, CertificateCredential).")
        if method != "POST":
            raise EntraError(400, "invalid_request", 900561, f"The endpoint only accepts POST requests. Received a "
                                                             f"{method} request.")
        if form.get("grant_type") == "authorization_code":
            return 200, authorize.exchange(self.codes, self.key, form, base=base, tenant=tenant, v2=what == "token-v2")
        return 200, grant.client_credentials(self.registry, self.key, form, base=base, url_tenant=url_tenant,
                                             tenant=tenant, v2=what == "token-v2")


def with_entra(arm_app: ASGIApp, service: EntraService) -> ASGIApp:
    """An ASGI app serving ``service``'s paths and passing the rest to ``arm_app``."""

    async def app(scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable[[dict], Awaitable[None]]) -> None:
        hit = service.route(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if hit is None:
            await arm_app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        base = f"{scope.get('scheme', 'https')}://{headers.get('host', 'localhost')}"
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        try:
            form = await _read_form(receive, scope["method"])
            if hit[0] == "authorize" and hit[1].lower() in (service.tenant.lower(), *TENANT_ALIASES):  # a person signs in: HTML
                code, head, page = authorize.authorize(service.registry, service.codes, service.tenant,
                                                       scope["method"], query, form)
                await send({"type": "http.response.start", "status": code, "headers": [
                    *head, (b"content-length", str(len(page)).encode()), (b"cache-control", b"no-store"),
                    (b"x-frame-options", b"DENY")]})
                await send({"type": "http.response.body", "body": page})
                return
            status, body = service.answer(hit[0], hit[1], scope["method"], base, query, form)
        except EntraError as exc:
            status, body = exc.status, exc.body(base)
        except Exception:  # a bug: still answer in Entra's shape, and say so in the log
            log.exception("internal error on %s %s", scope["method"], scope["path"])
            status, body = 500, EntraError(500, "server_error", 90033, "The emulator's token service hit an "
                                                                       "internal error; see its log.").body(base)
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(payload)).encode()), (b"cache-control", b"no-store"),
                                (b"x-ms-request-id", str(uuid.uuid4()).encode())]})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else payload})

    for name in ("set_base_url", "config", "engine", "live"):  # the ARM app's attributes stay reachable
        if hasattr(arm_app, name):
            setattr(app, name, getattr(arm_app, name))
    return app


async def _read_form(receive: Callable[[], Awaitable[dict]], method: str) -> dict:
    """A form-encoded body (the token endpoint's), refused past 64 KiB."""
    if method != "POST":
        return {}
    try:
        body = await asgi.read_body(receive, MAX_FORM)
    except asgi.BodyTooLarge:
        raise EntraError(400, "invalid_request", 90014, f"The request body is over the limit of {MAX_FORM} bytes.") \
            from None
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise EntraError(400, "invalid_request", 90014, "The request body is not UTF-8 form data "
                                                        "(application/x-www-form-urlencoded).") from None
