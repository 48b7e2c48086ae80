"""The token service through MSAL and azure-identity, and ARM's answers to good and bad tokens."""

from __future__ import annotations

import datetime as dt
import os
import time

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from arclink import tokens
from tests.entra.conftest import request

ARM = "https://management.azure.com/.default"


def _secret_credential(ep, secret=None, client_id=None, tenant=None):
    from azure.identity import ClientSecretCredential

    return ClientSecretCredential(tenant or ep["tenant"], client_id or ep["client_id"], secret or ep["client_secret"],
                                  authority=ep["authority"], disable_instance_discovery=True,
                                  connection_verify=ep["ca_cert"])


def _self_signed() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arclink-test-app")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def test_discovery_and_jwks_through_msal(emulator):
    import msal
    import requests

    ep = emulator.endpoints
    session = requests.Session()
    session.verify = ep["ca_cert"]
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over session.verify
    app = msal.ConfidentialClientApplication(ep["client_id"], client_credential=ep["client_secret"],
                                             authority=f"{ep['authority']}/{ep['tenant']}", instance_discovery=False,
                                             http_client=session)
    result = app.acquire_token_for_client(["https://management.core.windows.net//.default"])
    assert "access_token" in result, result
    status, doc, _ = request(emulator, "GET", f"/{ep['tenant']}/v2.0/.well-known/openid-configuration")
    assert status == 200 and doc["token_endpoint"] == f"{ep['authority']}/{ep['tenant']}/oauth2/v2.0/token"
    status, jwks, _ = request(emulator, "GET", doc["jwks_uri"][len(ep["authority"]):])
    assert status == 200
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(result["access_token"], key, algorithms=["RS256"],
                        audience="https://management.core.windows.net/")
    assert claims["tid"] == ep["tenant"] and claims["appid"] == ep["client_id"] and claims["oid"]
    assert claims["nbf"] <= claims["iat"] < claims["exp"]
    for path in (f"/{ep['tenant']}/.well-known/openid-configuration", "/adfs/.well-known/openid-configuration"):
        status, doc, _ = request(emulator, "GET", path)
        assert status == 200 and doc["authorization_endpoint"] and doc["token_endpoint"].startswith(ep["authority"])


def test_client_secret_credential_drives_an_sdk_client(emulator):
    from azure.mgmt.resource.resources import ResourceManagementClient

    ep = emulator.endpoints
    client = ResourceManagementClient(_secret_credential(ep), ep["subscription"], base_url=ep["arm"],
                                      connection_verify=ep["ca_cert"], credential_scopes=[ARM])
    client.resource_groups.create_or_update("rg-entra", {"location": "westeurope"})
    assert [g.name for g in client.resource_groups.list()] == ["rg-entra"]


def test_certificate_credential_with_a_registered_certificate(emulator):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import CertificateCredential
    from azure.mgmt.resource.resources import ResourceManagementClient

    ep = emulator.endpoints
    cert_pem, key_pem = _self_signed()
    status, added, _ = request(emulator, "POST", "/_arclink/principals", token=ep["token"],
                               body={"displayName": "cert-app", "certificate": cert_pem.decode()})
    assert status == 201 and "clientSecret" not in added
    cred = CertificateCredential(ep["tenant"], added["clientId"], certificate_data=key_pem + cert_pem,
                                 authority=ep["authority"], disable_instance_discovery=True,
                                 connection_verify=ep["ca_cert"])
    client = ResourceManagementClient(cred, ep["subscription"], base_url=ep["arm"], connection_verify=ep["ca_cert"],
                                      credential_scopes=[ARM])
    client.resource_groups.create_or_update("rg-cert", {"location": "westeurope"})
    other_cert, other_key = _self_signed()  # a certificate never registered on the app
    stranger = CertificateCredential(ep["tenant"], added["clientId"], certificate_data=other_key + other_cert,
                                     authority=ep["authority"], disable_instance_discovery=True,
                                     connection_verify=ep["ca_cert"])
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        stranger.get_token(ARM)


@pytest.mark.parametrize("case, status, error, code", [
    ("wrong secret", 401, "invalid_client", 7000215),
    ("unknown client", 400, "unauthorized_client", 700016),
    ("unknown tenant", 400, "invalid_request", 90002),
    ("graph audience", 400, "invalid_resource", 500011),
    ("no credential", 401, "invalid_client", 7000216),
])
def test_token_errors_in_entras_shape(emulator, case, status, error, code):
    ep = emulator.endpoints
    form = {"grant_type": "client_credentials", "client_id": ep["client_id"], "client_secret": ep["client_secret"],
            "scope": ARM}
    tenant = ep["tenant"]
    if case == "wrong secret":
        form["client_secret"] = "not-the-secret"
    elif case == "unknown client":
        form["client_id"] = "00000000-0000-0000-0000-000000000001"
    elif case == "unknown tenant":
        tenant = "11111111-1111-1111-1111-111111111111"
    elif case == "graph audience":
        form["scope"] = "https://graph.microsoft.com/.default"
    else:
        del form["client_secret"]
    got, body, _ = request(emulator, "POST", f"/{tenant}/oauth2/v2.0/token", form=form)
    assert (got, body["error"], body["error_codes"]) == (status, error, [code])
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert body["trace_id"] and body["correlation_id"] and body["timestamp"]


def test_wrong_secret_through_azure_identity(emulator):
    from azure.core.exceptions import ClientAuthenticationError

    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        _secret_credential(emulator.endpoints, secret="wrong").get_token(ARM)


def test_v1_token_endpoint_takes_a_resource(emulator):
    ep = emulator.endpoints
    status, body, _ = request(emulator, "POST", f"/{ep['tenant']}/oauth2/token", form={
        "grant_type": "client_credentials", "client_id": ep["client_id"], "client_secret": ep["client_secret"],
        "resource": "https://management.core.windows.net/"})
    assert status == 200 and body["resource"] == "https://management.core.windows.net/"
    assert request(emulator, "GET", "/subscriptions", token=body["access_token"])[0] == 400  # no api-version: past auth


def _forged(emulator, **overrides):
    ep = emulator.endpoints
    args = {"authority": ep["authority"], "tenant": ep["tenant"], "audience": "https://management.azure.com/",
            "client_id": ep["client_id"], "object_id": "00000000-0000-0000-0000-0000000000aa"}
    key = overrides.pop("key", None) or tokens.load_signing_key(emulator.state_dir)
    args.update(overrides)
    return tokens.issue(key, **args)[0]


@pytest.mark.parametrize("case, code", [
    ("expired", "ExpiredAuthenticationToken"),
    ("audience", "InvalidAuthenticationTokenAudience"),
    ("tenant", "InvalidAuthenticationTokenTenant"),
    ("foreign key", "InvalidAuthenticationToken"),
    ("garbage", "InvalidAuthenticationToken"),
])
def test_arm_refuses_bad_tokens_with_its_codes(emulator, case, code):
    ep = emulator.endpoints
    if case == "expired":
        token = _forged(emulator, now=int(time.time()) - 7200)
    elif case == "audience":
        token = _forged(emulator, audience="https://graph.microsoft.com/")
    elif case == "tenant":
        token = _forged(emulator, tenant="22222222-2222-2222-2222-222222222222")
    elif case == "foreign key":
        token = _forged(emulator, key=tokens.load_signing_key(None))
    else:
        token = "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln"
    status, body, headers = request(emulator, "GET", "/subscriptions?api-version=2022-12-01", token=token)
    assert (status, body["error"]["code"]) == (401, code)
    challenge = headers["WWW-Authenticate"]
    assert f'authorization_uri="{ep["authority"]}/{ep["tenant"]}"' in challenge and 'error="invalid_token"' in challenge


def test_both_audience_spellings_and_the_static_token_are_accepted(emulator):
    ep = emulator.endpoints
    for aud in ("https://management.core.windows.net/", "https://management.core.windows.net",
                "https://management.azure.com", "https://management.azure.com/"):
        assert request(emulator, "GET", "/subscriptions?api-version=2022-12-01",
                       token=_forged(emulator, audience=aud))[0] == 200
    status, body, _ = request(emulator, "GET", "/subscriptions?api-version=2022-12-01", token=ep["token"])
    assert status == 200 and body["value"][0]["tenantId"] == ep["tenant"]
    status, body, _ = request(emulator, "GET", "/tenants?api-version=2022-12-01", token=ep["token"])
    assert status == 200 and body["value"][0]["tenantId"] == ep["tenant"]


def test_only_the_token_service_and_metadata_are_open(emulator):
    ep = emulator.endpoints
    status, meta, _ = request(emulator, "GET", "/metadata/endpoints?api-version=2022-09-01")
    assert status == 200 and meta["authentication"]["loginEndpoint"] == ep["authority"]
    assert meta["resourceManager"].rstrip("/") == ep["arm"]
    assert meta["authentication"]["audiences"][0] == "https://management.core.windows.net/"
    assert isinstance(request(emulator, "GET", "/metadata/endpoints?api-version=2019-05-01")[1], list)
    for path in ("/subscriptions?api-version=2022-12-01", "/tenants?api-version=2022-12-01", "/_arclink/principals",
                 "/_arclink/state"):
        status, body, headers = request(emulator, "GET", path)
        assert (status, body["error"]["code"]) == (401, "AuthenticationFailed"), path
        assert f'authorization_uri="{ep["authority"]}/{ep["tenant"]}"' in headers["WWW-Authenticate"]


def test_principals_are_added_and_removed_through_the_control_api(emulator):
    ep = emulator.endpoints
    status, added, _ = request(emulator, "POST", "/_arclink/principals", token=ep["token"], body={"displayName": "ci"})
    assert status == 201 and added["clientSecret"]
    form = {"grant_type": "client_credentials", "client_id": added["clientId"], "client_secret": added["clientSecret"],
            "scope": ARM}
    assert request(emulator, "POST", f"/{ep['tenant']}/oauth2/v2.0/token", form=form)[0] == 200
    status, listed, _ = request(emulator, "GET", "/_arclink/principals", token=ep["token"])
    assert {p["clientId"] for p in listed["value"]} == {ep["client_id"], added["clientId"]}
    assert "clientSecret" not in str(listed)
    assert request(emulator, "DELETE", f"/_arclink/principals/{added['clientId']}", token=ep["token"])[0] == 200
    status, body, _ = request(emulator, "POST", f"/{ep['tenant']}/oauth2/v2.0/token", form=form)
    assert (status, body["error_codes"]) == (400, [700016])
    status, body, _ = request(emulator, "DELETE", f"/_arclink/principals/{ep['client_id']}", token=ep["token"])
    assert (status, body["error"]["code"]) == (409, "Conflict")


@pytest.mark.parametrize("in_memory", [True, False])
def test_the_default_principal_and_key_survive_a_restart(tmp_path, in_memory):
    from arclink.stack import start_services

    with start_services(tmp_path / "s", in_memory=in_memory) as svc:
        first = svc.endpoints
        token = _forged(svc)
    for name in ("principals.json", tokens.KEY_FILE):
        assert os.stat(tmp_path / "s" / name).st_mode & 0o777 == 0o600
    with start_services(tmp_path / "s", in_memory=in_memory) as svc:
        again = svc.endpoints
        assert (again["client_id"], again["client_secret"]) == (first["client_id"], first["client_secret"])
        assert request(svc, "GET", "/subscriptions?api-version=2022-12-01", token=token)[0] == 200


@pytest.mark.parametrize("alias", ["organizations", "common", "Organizations"])
def test_tenant_aliases_stand_for_the_one_tenant(emulator, alias):
    """MSAL discovers /organizations (az logout, az account clear); a token asked for through an alias is the tenant's."""
    ep = emulator.endpoints
    status, doc, _ = request(emulator, "GET", f"/{alias}/v2.0/.well-known/openid-configuration")
    assert status == 200 and doc["issuer"] == f"{ep['authority']}/{ep['tenant']}/v2.0"
    assert doc["token_endpoint"] == f"{ep['authority']}/{ep['tenant']}/oauth2/v2.0/token"
    status, body, _ = request(emulator, "POST", f"/{alias}/oauth2/v2.0/token", form={
        "grant_type": "client_credentials", "client_id": ep["client_id"], "client_secret": ep["client_secret"],
        "scope": ARM})
    assert status == 200
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["tid"] == ep["tenant"] and ep["tenant"] in claims["iss"]
    assert request(emulator, "GET", "/subscriptions?api-version=2022-12-01", token=body["access_token"])[0] == 200
    # any other name is still no tenant of this emulator
    status, body, _ = request(emulator, "GET", "/consumers/v2.0/.well-known/openid-configuration")
    assert (status, body["error_codes"]) == (400, [90002])
