"""The portal over plain HTTPS: nothing without signing in, and a sign-in that cannot be bent.

The authorization-code grant refuses a foreign redirect URI (an error page, never a redirect), a
missing PKCE challenge, a wrong ``code_verifier`` and a code used twice; forms need the session's
CSRF token. Also the command line's pictures: ``explain --format svg`` and ``lint --format html``.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import ssl
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from arclink.cli.main import main
from arclink.principals import PORTAL_CLIENT_ID, PORTAL_REDIRECT_PATH

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    from arclink.stack import start_services

    s = start_services(tmp_path_factory.mktemp("portal-http"), in_memory=True)
    yield s
    s.stop()


def fetch(svc, method: str, path: str, form: dict | None = None, cookie: str = "") -> tuple[int, dict, str]:
    u = urlsplit(svc.endpoints["arm"])
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(
        cafile=svc.endpoints["ca_cert"]), timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    conn.close()
    return out


def _authorize_query(svc, **over) -> str:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = {"client_id": PORTAL_CLIENT_ID, "response_type": "code", "state": "s1",
         "redirect_uri": svc.endpoints["arm"] + PORTAL_REDIRECT_PATH, "code_challenge": challenge,
         "code_challenge_method": "S256"}
    q.update(over)
    return f"/{svc.endpoints['tenant']}/oauth2/v2.0/authorize?" + urlencode({k: v for k, v in q.items() if v is not None})


def test_nothing_is_visible_without_signing_in(svc):
    for path in ("/portal/", "/portal/clusters", "/portal/findings", "/portal/events", "/portal/rules/APL001",
                 "/portal/scope?id=/subscriptions/x"):
        status, headers, body = fetch(svc, "GET", path)
        assert status == 303 and headers["location"].startswith("/portal/signin?next="), path
    status, _, body = fetch(svc, "POST", "/portal/scopes", {"name": "x"})
    assert status == 303
    status, _, body = fetch(svc, "GET", "/portal/signin")
    assert status == 200 and "Sign in with Microsoft Entra ID" in body and svc.endpoints["token"] not in body
    status, headers, _ = fetch(svc, "GET", "/portal/static/portal.css")
    assert status == 200 and headers["content-type"].startswith("text/css")
    assert fetch(svc, "GET", "/portal/static/../stack.py")[0] == 404


def test_a_foreign_redirect_uri_or_no_pkce_is_refused_without_redirecting(svc):
    for bad in ({"redirect_uri": "https://evil.example/portal/signin/callback"},
                {"redirect_uri": svc.endpoints["arm"] + "/elsewhere"}, {"client_id": "someone-else"},
                {"code_challenge": None}, {"code_challenge_method": "plain"}, {"response_type": "token"}):
        status, headers, body = fetch(svc, "GET", _authorize_query(svc, **bad))
        assert status == 400 and "location" not in headers, bad
        assert 'role="alert"' in body


def _code(svc) -> str:
    status, _, page = fetch(svc, "GET", _authorize_query(svc))
    assert status == 200
    form = {k: unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    form.update(username=svc.endpoints["user"], password=svc.endpoints["password"])
    status, headers, _ = fetch(svc, "POST", _authorize_query(svc), form)
    assert status == 302
    back = urlsplit(headers["location"])
    assert back.path == PORTAL_REDIRECT_PATH and parse_qs(back.query)["state"] == ["s1"]
    return parse_qs(back.query)["code"][0]


def test_the_code_needs_its_verifier_and_is_good_once(svc):
    token_path = f"/{svc.endpoints['tenant']}/oauth2/v2.0/token"
    form = {"grant_type": "authorization_code", "client_id": PORTAL_CLIENT_ID,
            "redirect_uri": svc.endpoints["arm"] + PORTAL_REDIRECT_PATH}
    status, _, body = fetch(svc, "POST", token_path, {**form, "code": _code(svc), "code_verifier": "w" * 50})
    assert status == 400 and json.loads(body)["error_codes"] == [501481]
    code = _code(svc)
    status, _, body = fetch(svc, "POST", token_path, {**form, "code": code, "code_verifier": "v" * 50})
    assert status == 200
    token = json.loads(body)["access_token"]
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["upn"] == svc.endpoints["user"] and claims["idtyp"] == "user"
    status, _, body = fetch(svc, "POST", token_path, {**form, "code": code, "code_verifier": "v" * 50})
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"


def test_token_sign_in_and_csrf(svc):
    status, headers, _ = fetch(svc, "POST", "/portal/signin/token", {"token": "wrong", "next": "/portal/"})
    assert status == 401 and "set-cookie" not in headers
    status, headers, _ = fetch(svc, "POST", "/portal/signin/token", {"token": svc.endpoints["token"],
                                                                     "next": "https://evil.example/"})
    assert status == 303 and headers["location"] == "/portal/"  # never a redirect elsewhere
    cookie = headers["set-cookie"].split(";", 1)[0]
    assert "HttpOnly" in headers["set-cookie"] and "Secure" in headers["set-cookie"]
    status, _, body = fetch(svc, "GET", "/portal/scopes", cookie=cookie)
    assert status == 200 and "Signed in as the token in endpoints.json" in body
    status, _, _ = fetch(svc, "POST", "/portal/scopes", {"name": "pls-x", "resourceGroup": "rg-x",
                                                         "subscription": svc.endpoints["subscription"]}, cookie)
    assert status == 403  # no CSRF token
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    form = {"csrf": csrf, "name": "pls-x", "resourceGroup": "rg-x", "subscription": svc.endpoints["subscription"],
            "location": "westeurope", "publicNetworkAccess": "Disabled"}
    status, headers, _ = fetch(svc, "POST", "/portal/scopes", form, cookie)
    status, _, body = fetch(svc, "GET", headers["location"], cookie=cookie)
    assert "MissingSubscriptionRegistration" in body  # ARM's own refusal, shown as it is
    from arclink.agent.arm_client import ArmClient, Endpoints

    arm = ArmClient(Endpoints.from_dict(svc.endpoints, str(svc.state_dir)))
    arm.post(f"/subscriptions/{svc.endpoints['subscription']}/providers/Microsoft.HybridCompute/register", "2022-09-01")
    arm.close()
    status, headers, _ = fetch(svc, "POST", "/portal/scopes", form, cookie)
    assert status == 303 and headers["location"].startswith("/portal/scope?id=")
    status, _, body = fetch(svc, "GET", headers["location"], cookie=cookie)
    assert status == 200 and "Created the scope pls-x." in body


def test_explain_svg_and_lint_html(capsys):
    bad = str(REPO / "examples" / "broken" / "pending-endpoint-connection.yaml")
    assert main(["explain", bad, "--format", "svg"]) == 0
    svg = capsys.readouterr().out
    assert svg.startswith("<svg") and "<style>" in svg
    assert svg.count('data-verdict="refused"') >= 1 and 'data-verdict="admitted"' not in svg
    failing = re.findall(r'data-kind="endpoint" data-failing="(\d+)"', svg)
    assert failing == ["3"]  # all three refused at the endpoint whose connection is pending
    assert main(["lint", bad, "--format", "html"]) == 1
    page = capsys.readouterr().out
    assert page.startswith("<!doctype html>") and "<svg" in page and "<script" not in page
    assert "PrivateEndpointConnectionNotApproved" not in page or "APL" in page
    assert re.search(r"<th scope=\"row\">APL\d{3}</th>", page)
