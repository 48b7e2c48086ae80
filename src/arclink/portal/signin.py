"""Signing in to the portal: the authorization-code grant with PKCE against the emulator's own
Entra ID, or the static token of ``endpoints.json``; and signing out.

The portal is the public client ``principals.PORTAL_CLIENT_ID``: it sends the browser to the
tenant's ``/authorize`` with an S256 code challenge, and on the way back exchanges the code at the
token endpoint with the verifier it kept. A browser may only finish a sign-in it started (the
state is also in a short-lived cookie).
"""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from arclink.portal.html import bare_page, e, hidden
from arclink.portal.session import COOKIE, PKCE_COOKIE
from arclink.principals import PORTAL_CLIENT_ID, PORTAL_REDIRECT_PATH

if TYPE_CHECKING:
    from http.cookies import SimpleCookie

    from arclink.portal.app import Request, Response

SCOPE = "https://management.core.windows.net//user_impersonation openid profile offline_access"


def _cookie(name: str, value: str, max_age: int | None = None) -> tuple[bytes, bytes]:
    age = f"; Max-Age={max_age}" if max_age is not None else ""
    return (b"set-cookie", f"{name}={value}; Path=/portal; HttpOnly; Secure; SameSite=Lax{age}".encode())


def _safe_next(value: str | None) -> str:
    """Only a path of the portal itself: never a redirect elsewhere."""
    if value and value.startswith("/portal/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/portal/"


def form_page(req: Request, error: str = "", status: int = 200) -> Response:
    from arclink.portal.app import html

    nxt = _safe_next(req.query.get("next") or req.form.get("next"))
    alert = f'<p class="flash error" role="alert">{e(error)}</p>' if error else ""
    entra = ""
    if req.portal.entra:
        entra = ("<h2>Microsoft Entra ID</h2><p>Sign in as a user of the emulator's tenant (the default user and its "
                 "password are in <code>endpoints.json</code>).</p>"
                 f'<p><a class="button" id="entra-signin" href="/portal/signin/start?{urlencode({"next": nxt})}">'
                 "Sign in with Microsoft Entra ID</a></p>")
    token = ("<h2>Access token</h2><form method=\"post\" action=\"/portal/signin/token\">"
             f"{hidden('next', nxt)}<label for=\"token\">The token in endpoints.json</label>"
             "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required size=\"40\">"
             "<p><button type=\"submit\">Sign in with the token</button></p></form>")
    return html(bare_page("Sign in to the arclink portal", alert + entra + token), status)


async def handle(req: Request, cookies: SimpleCookie) -> Response:
    from arclink.portal.app import redirect

    portal = req.portal
    if req.path == "/signout":
        if req.method != "POST" or req.session is None or not hmac.compare_digest(req.form.get("csrf", ""),
                                                                                   req.session.csrf):
            return redirect("/portal/")
        portal.sessions.drop(req.sid)
        resp = redirect("/portal/signin")
        resp.headers.append(_cookie(COOKIE, "", 0))
        return resp
    if req.path == "/signin/token" and req.method == "POST":
        token = req.form.get("token", "").strip()
        if not token:
            return form_page(req, "Enter the token from endpoints.json.", 400)
        check = await portal.bridge.arm(token, "GET", "/subscriptions", "Microsoft.Resources")
        if not check.ok:
            return form_page(req, "That token is not accepted: " + check.error, 401)
        user = "the token in endpoints.json" if portal.static_token_matches(token) else "an access token"
        sid = portal.sessions.create(token, user, None)
        resp = redirect(_safe_next(req.form.get("next")))
        resp.headers.append(_cookie(COOKIE, sid))
        return resp
    if req.path == "/signin/start" and portal.entra:
        state, challenge = portal.sessions.start_signin()
        query = {"client_id": PORTAL_CLIENT_ID, "response_type": "code", "redirect_uri": req.base + PORTAL_REDIRECT_PATH, "scope": SCOPE, "state": state,
                 "code_challenge": challenge, "code_challenge_method": "S256", "response_mode": "query"}
        resp = redirect(f"/{portal.tenant}/oauth2/v2.0/authorize?{urlencode(query)}")
        nxt = _safe_next(req.query.get("next"))
        resp.headers.append(_cookie(PKCE_COOKIE, f"{state}.{urlencode({'n': nxt})[2:]}", 600))
        return resp
    if req.path == "/signin/callback" and portal.entra:
        return await _callback(req, cookies)
    return form_page(req)


async def _callback(req: Request, cookies: SimpleCookie) -> Response:
    from urllib.parse import unquote

    from arclink.portal.app import redirect

    portal = req.portal
    state = req.query.get("state", "")
    held = cookies[PKCE_COOKIE].value if PKCE_COOKIE in cookies else ""
    held_state, _, nxt = held.partition(".")
    if req.query.get("error"):
        return form_page(req, f"Sign-in failed: {req.query.get('error_description') or req.query['error']}", 400)
    if not state or not hmac.compare_digest(held_state, state):
        return form_page(req, "This sign-in was not started in this browser, or it took too long; sign in again.", 400)
    verifier = portal.sessions.finish_signin(state)
    if verifier is None or not req.query.get("code"):
        return form_page(req, "This sign-in has expired or was already used; sign in again.", 400)
    answer = await portal.bridge.form(f"/{portal.tenant}/oauth2/v2.0/token", {
        "grant_type": "authorization_code", "client_id": PORTAL_CLIENT_ID, "code": req.query["code"],
        "redirect_uri": req.base + PORTAL_REDIRECT_PATH, "code_verifier": verifier, "scope": SCOPE})
    if not answer.ok or not isinstance(answer.body, dict) or "access_token" not in answer.body:
        return form_page(req, "The token service did not accept the sign-in: " + answer.error, 400)
    token = answer.body["access_token"]
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})  # issued to us just now, over loopback
    lifetime = max(60.0, float(claims.get("exp", time.time() + 3600)) - time.time() - 60)
    sid = portal.sessions.create(token, str(claims.get("upn") or claims.get("name") or "a user"), lifetime)
    resp = redirect(_safe_next(unquote(nxt)))
    resp.headers += [_cookie(COOKIE, sid), _cookie(PKCE_COOKIE, "", 0)]
    return resp
