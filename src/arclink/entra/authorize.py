"""The authorization-code grant with PKCE: a person signs in at ``/authorize`` and the portal
exchanges the code at the token endpoint with its ``code_verifier``.

The one public client is the portal (``principals.PORTAL_CLIENT_ID``), and it may only be sent
back to ``principals.PORTAL_REDIRECT_PATH`` on a loopback host: a redirect URI is checked before
anything is redirected to it, so a bad one is an error page here, never a redirect elsewhere.
Codes live in memory for five minutes and are good once (RFC 6749 4.1.2, RFC 7636 S256 only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from arclink import tokens
from arclink.entra.documents import EntraError, missing_parameter
from arclink.net import is_loopback
from arclink.principals import PORTAL_CLIENT_ID, PORTAL_REDIRECT_PATH, Registry, User

CODE_LIFETIME = 300  # seconds
_OAUTH_FIELDS = ("client_id", "response_type", "redirect_uri", "scope", "state", "code_challenge",
                 "code_challenge_method", "response_mode", "login_hint")


@dataclass
class _Grant:
    user: User
    client_id: str
    redirect_uri: str
    challenge: str
    expires: float


class CodeBook:
    """Issued authorization codes, each redeemable once before it expires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, _Grant] = {}

    def issue(self, grant: _Grant) -> str:
        code = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            for k in [k for k, g in self._codes.items() if g.expires < now]:
                del self._codes[k]
            self._codes[code] = grant
        return code

    def redeem(self, code: str) -> _Grant | None:
        with self._lock:
            grant = self._codes.pop(code, None)
        return grant if grant is not None and grant.expires >= time.monotonic() else None


def check_redirect(client_id: str | None, redirect_uri: str | None) -> str | None:
    """Why this client and redirect URI are refused (a sentence with the fix), or None."""
    if client_id != PORTAL_CLIENT_ID:
        return (f"Application '{client_id or ''}' is not a public client of this tenant; the portal's client id is "
                f"{PORTAL_CLIENT_ID}.")
    try:
        parts = urlsplit(redirect_uri or "")
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme != "https" or not is_loopback(host) or parts.path != PORTAL_REDIRECT_PATH:
        return (f"The redirect URI '{redirect_uri or ''}' is not registered for the portal; it must be "
                f"https://<loopback host>:<port>{PORTAL_REDIRECT_PATH}.")
    return None


def _page(title: str, body: str) -> bytes:
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>"
            f"<h1>{html.escape(title)}</h1>{body}</main></body></html>").encode()


_CSS = ("body{font-family:system-ui,sans-serif;margin:0;background:#f3f2f1;color:#201f1e}"
        "main{max-width:26rem;margin:3rem auto;padding:1.5rem;background:#fff;border:1px solid #c8c6c4}"
        "label{display:block;margin-top:1rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;"
        "font-size:1rem;border:1px solid #605e5c}button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem;"
        "background:#0f6cbd;color:#fff;border:0;cursor:pointer}button:focus,input:focus{outline:3px solid #201f1e;"
        "outline-offset:2px}.error{color:#a4262c;font-weight:600}")


def login_form(params: dict, tenant: str, error: str = "") -> bytes:
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">'
                     for k in _OAUTH_FIELDS if params.get(k))
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    hint = html.escape(params.get("username") or params.get("login_hint") or "")
    return _page("Sign in to arclink", f"<p>Tenant {html.escape(tenant)}</p>{alert}<form method=\"post\">{hidden}"
                 f'<label for="username">Email or user name</label><input id="username" name="username" '
                 f'autocomplete="username" required value="{hint}">'
                 '<label for="password">Password</label><input id="password" name="password" type="password" '
                 'autocomplete="current-password" required><button type="submit">Sign in</button></form>')


def authorize(registry: Registry, codes: CodeBook, tenant: str, method: str, query: dict,
              form: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """``/authorize``: the sign-in form (GET), then a redirect with the code (POST with good credentials)."""
    params = {**query, **form} if method == "POST" else dict(query)
    html_head = [(b"content-type", b"text/html; charset=utf-8")]
    problem = check_redirect(params.get("client_id"), params.get("redirect_uri"))
    if problem is None and params.get("response_type") != "code":
        problem = "This emulator signs people in with the authorization-code grant only: response_type=code."
    if problem is None and (params.get("code_challenge_method") != "S256" or not params.get("code_challenge")):
        problem = "PKCE is required: send code_challenge with code_challenge_method=S256."
    if problem:
        return 400, html_head, _page("Sign-in request refused", f'<p role="alert">{html.escape(problem)}</p>')
    if method != "POST":
        return 200, html_head, login_form(params, tenant)
    user = registry.sign_in(form.get("username", ""), form.get("password", ""))
    if user is None:
        return 200, html_head, login_form(params, tenant, "Your account or password is incorrect. The default "
                                                          "user and its password are in endpoints.json.")
    code = codes.issue(_Grant(user, params["client_id"], params["redirect_uri"], params["code_challenge"],
                              time.monotonic() + CODE_LIFETIME))
    back = {"code": code, **({"state": params["state"]} if params.get("state") else {})}
    location = f"{params['redirect_uri']}?{urlencode(back)}"
    return 302, [(b"location", location.encode()), *html_head], b""


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def exchange(codes: CodeBook, key: tokens.SigningKey, form: dict, *, base: str, tenant: str, v2: bool) -> dict:
    """The token response for ``grant_type=authorization_code``, else ``EntraError``."""
    for name in ("code", "client_id", "redirect_uri", "code_verifier"):
        if not form.get(name):
            raise missing_parameter(name)
    grant = codes.redeem(form["code"])
    if grant is None:
        raise EntraError(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired "
                                                      "or was already used. Sign in again.")
    if grant.client_id != form["client_id"] or grant.redirect_uri != form["redirect_uri"]:
        raise EntraError(400, "invalid_grant", 70002, "The client_id or redirect_uri does not match the "
                                                      "authorization request.")
    if not hmac.compare_digest(_s256(form["code_verifier"]), grant.challenge):
        raise EntraError(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied "
                                                       "in the authorization request.")
    now = int(time.time())
    u = grant.user
    token, exp = tokens.issue(key, authority=base, tenant=tenant, audience=tokens.ARM_AUDIENCES[0],
                              client_id=grant.client_id, object_id=u.object_id, now=now,
                              extra={"idtyp": "user", "upn": u.username, "name": u.display_name, "appidacr": "0"})
    out: dict = {"token_type": "Bearer", "expires_in": exp - now, "ext_expires_in": exp - now, "access_token": token,
                 "scope": "https://management.core.windows.net//user_impersonation"}
    if not v2:
        out.update(expires_in=str(exp - now), expires_on=str(exp), resource=tokens.ARM_AUDIENCES[0])
    return out
