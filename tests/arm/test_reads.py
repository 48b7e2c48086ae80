"""Repeat GETs (arm.reads) answer exactly what the full path answers, and verified access tokens
are remembered only until they expire."""

from __future__ import annotations

import asyncio
import json

import pytest

from arclink import tokens
from arclink.arm import auth
from arclink.arm.app import ArmConfig, create_app
from arclink.arm.errors import ArmError
from arclink.arm.live import StoreLiveState
from arclink.arm.store import Store

from .arm_fixtures import asgi_call

SUB = "11111111-2222-3333-4444-555555555555"
TENANT = "99999999-2222-3333-4444-555555555555"
TOKEN = "static-token"
RG = f"/subscriptions/{SUB}/resourceGroups/rg"
PLS = f"{RG}/providers/Microsoft.HybridCompute/privateLinkScopes/pls1"
HV, RV = "2025-01-13", "2025-04-01"


@pytest.fixture(scope="module")
def key() -> tokens.SigningKey:
    return tokens.load_signing_key(None)


class Front:
    """The ARM app in process, with GETs sent as uvicorn sends them (no content-length)."""

    def __init__(self, key: tokens.SigningKey) -> None:
        self.store = Store()
        self.live = StoreLiveState(self.store)
        self.config = ArmConfig(token=TOKEN, subscription=SUB, tenant=TENANT, signing_key=key)
        self.app = create_app(self.store, self.live, self.config)
        self.loop = asyncio.new_event_loop()

    def call(self, method: str, path: str, body: dict | None = None, query: str = "",
             authorization: str = f"Bearer {TOKEN}") -> tuple[int, dict, bytes]:
        raw = json.dumps(body).encode() if body is not None else b""
        headers = [(b"host", b"localhost"), (b"authorization", authorization.encode())]
        if raw:
            headers.append((b"content-length", str(len(raw)).encode()))
        status, hdrs, payload = asgi_call(self.loop, self.app, method, path, raw, query, headers)
        hdrs.pop("x-ms-request-id")
        return status, hdrs, payload

    def close(self) -> None:
        self.live.close()
        self.loop.close()


@pytest.fixture
def front(key):
    f = Front(key)
    assert f.call("POST", f"/subscriptions/{SUB}/providers/Microsoft.HybridCompute/register", {}, f"api-version={RV}")[0] == 200
    assert f.call("PUT", RG, {"location": "westeurope"}, f"api-version={RV}")[0] == 201
    assert f.call("PUT", PLS, {"location": "westeurope"}, f"api-version={HV}")[0] == 201
    yield f
    f.close()


def test_a_repeated_get_answers_what_the_first_did_and_follows_writes(front):
    first = front.call("GET", PLS, query=f"api-version={HV}")
    assert first[0] == 200 and first == front.call("GET", PLS, query=f"api-version={HV}")
    assert front.call("PUT", PLS, {"location": "westeurope", "tags": {"v": "2"}}, f"api-version={HV}")[0] == 200
    status, _, body = front.call("GET", PLS, query=f"api-version={HV}")
    assert status == 200 and json.loads(body)["tags"] == {"v": "2"}
    assert front.call("DELETE", PLS, query=f"api-version={HV}")[0] in (200, 202)
    status, _, body = front.call("GET", PLS, query=f"api-version={HV}")
    assert status == 404 and json.loads(body)["error"]["code"] == "ResourceNotFound"


def test_a_repeated_get_still_checks_authorization_and_the_version_policy(front):
    assert front.call("GET", PLS, query=f"api-version={HV}")[0] == 200
    status, hdrs, body = front.call("GET", PLS, query=f"api-version={HV}", authorization="Bearer wrong")
    assert status == 401 and json.loads(body)["error"]["code"] == "InvalidAuthenticationToken"
    assert "www-authenticate" in hdrs
    status, _, body = front.call("GET", PLS, query=f"api-version={HV}", authorization="")
    assert status == 401 and json.loads(body)["error"]["code"] == "AuthenticationFailed"
    # the static token in another spelling of the scheme is still the static token
    assert front.call("GET", PLS, query=f"api-version={HV}", authorization=f"bearer  {TOKEN}")[0] == 200
    assert front.call("GET", PLS, query="api-version=2019-01-01")[0] == 400
    front.config.api_version_check = "lenient"
    assert front.call("GET", PLS, query="api-version=2019-01-01")[0] == 200
    front.config.api_version_check = "strict"
    status, _, body = front.call("GET", PLS, query="api-version=2019-01-01")
    assert status == 400 and json.loads(body)["error"]["code"] == "NoRegisteredProviderFound"


def test_an_access_token_is_served_from_memory_until_it_expires(front, key):
    token, exp = tokens.issue(key, authority="https://localhost", tenant=TENANT, audience="https://management.azure.com/",
                              client_id="c", object_id="o")
    for _ in range(2):  # verified, then remembered
        assert front.call("GET", PLS, query=f"api-version={HV}", authorization=f"Bearer {token}")[0] == 200
    # a token of the wrong tenant is refused even after a good one was remembered
    other, _ = tokens.issue(key, authority="https://localhost", tenant=SUB, audience="https://management.azure.com/",
                            client_id="c", object_id="o")
    status, _, body = front.call("GET", PLS, query=f"api-version={HV}", authorization=f"Bearer {other}")
    assert status == 401 and json.loads(body)["error"]["code"] == "InvalidAuthenticationTokenTenant"


def test_a_remembered_token_is_refused_once_expired(key):
    token, exp = tokens.issue(key, authority="https://localhost", tenant=TENANT, audience="https://management.azure.com/",
                              client_id="c", object_id="o")
    verified = auth.VerifiedTokens()

    def check(now: float) -> dict | None:
        return auth.check_bearer(f"Bearer {token}", static_token=b"x", tenant=TENANT, authority="https://localhost",
                                 key=key, verified=verified, now=now)

    assert check(exp - 60)["tid"] == TENANT
    assert verified.get(token, key, TENANT, exp) is not None
    assert verified.get(token, key, "another-tenant", exp) is None
    with pytest.raises(ArmError) as err:
        check(exp + tokens.LEEWAY + 1)
    assert err.value.code == "ExpiredAuthenticationToken"
    assert verified.get(token, key, TENANT, exp) is None  # forgotten, not served again
