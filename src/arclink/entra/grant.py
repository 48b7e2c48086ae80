"""The client-credentials grant: a service principal proves itself with a secret or a signed assertion.

Checks run in Entra's order (tenant, grant type, client, credential, resource) so each mistake gets
the AADSTS code Entra gives it.
"""

from __future__ import annotations

import base64
import time

import jwt

from arclink import tokens
from arclink.entra.documents import EntraError, missing_parameter
from arclink.principals import Principal, Registry

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ASSERTION_ALGS = ("RS256", "PS256", "ES256")
_RESERVED_SCOPES = {"openid", "profile", "offline_access", "email"}


def _thumbprint_hex(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex().upper()
    except ValueError:
        return None


def _resource(form: dict, v2: bool) -> str:
    """The resource asked for: v2 names it in ``scope`` as ``{resource}/.default``, v1 in ``resource``."""
    if not v2:
        resource = form.get("resource")
        if not resource:
            raise missing_parameter("resource")
        return resource
    scope = form.get("scope")
    if not scope:
        raise missing_parameter("scope")
    asked = [s for s in scope.split() if s not in _RESERVED_SCOPES]
    if len(asked) != 1 or not asked[0].endswith("/.default"):
        raise EntraError(400, "invalid_scope", 1002012,
                         f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                         "scope value with /.default suffixed to the resource identifier (application ID URI).")
    return asked[0][: -len("/.default")]


def _check_assertion(registry: Registry, p: Principal, assertion: str, tenant: str) -> None:
    """The assertion is signed by a certificate registered on ``p``, for this token endpoint, and current."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise EntraError(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from None
    alg = header.get("alg")
    if alg not in _ASSERTION_ALGS:
        raise EntraError(401, "invalid_client", 5002738, f"Invalid JWT token. '{alg}' is not a supported signature "
                                                         f"algorithm; use {', '.join(_ASSERTION_ALGS)}.")
    sha256, sha1 = _thumbprint_hex(header.get("x5t#S256")), _thumbprint_hex(header.get("x5t"))
    cert = registry.certificate(p, sha1=sha1, sha256=sha256)
    if cert is None:
        raise EntraError(401, "invalid_client", 700027,
                         "The certificate with identifier used to sign the client assertion is not registered on "
                         f"application. [Reason - The key was not found., Thumbprint of key used by client: "
                         f"'{sha256 or sha1 or 'none'}'] Register the certificate on the principal through the "
                         "control API.")
    try:
        claims = jwt.decode(assertion, cert.public_key(), algorithms=[alg],  # type: ignore[arg-type]
                            options={"verify_aud": False, "verify_exp": False, "require": ["exp", "aud", "iss"]})
    except jwt.PyJWTError:
        raise EntraError(401, "invalid_client", 700027, "Client assertion failed signature validation.") from None
    now = time.time()
    if claims["exp"] + tokens.LEEWAY < now or claims.get("nbf", 0) - tokens.LEEWAY > now:
        raise EntraError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
    if claims.get("iss") != p.client_id or claims.get("sub", p.client_id) != p.client_id:
        raise EntraError(401, "invalid_client", 700021, "Client assertion application identifier doesn't match "
                                                        "'client_id' parameter.")
    aud = claims.get("aud")
    path = "/" + aud.split("://", 1)[-1].split("/", 1)[-1] if isinstance(aud, str) else ""
    if path.rstrip("/").lower() not in {f"/{tenant}/oauth2/v2.0/token".lower(), f"/{tenant}/oauth2/token".lower(),
                                        "/adfs/oauth2/token"}:
        raise EntraError(401, "invalid_client", 700212, f"No matching federated identity record found for presented "
                                                        f"assertion audience '{aud}'; the audience must be this "
                                                        "token endpoint.")


def client_credentials(registry: Registry, key: tokens.SigningKey, form: dict, *, base: str, url_tenant: str,
                       tenant: str, v2: bool) -> dict:
    """The token response for a client-credentials request, else ``EntraError``."""
    grant = form.get("grant_type")
    if not grant:
        raise missing_parameter("grant_type")
    if grant != "client_credentials":
        raise EntraError(400, "unsupported_grant_type", 70003,
                         f"The app requested an unsupported grant type '{grant}'. This emulator issues tokens to "
                         "service principals only (grant_type=client_credentials).")
    assertion = form.get("client_assertion")
    client_id = form.get("client_id")
    if not client_id and assertion:
        try:
            client_id = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            client_id = None
    if not client_id:
        raise missing_parameter("client_id")
    p = registry.get(client_id)
    if p is None:
        raise EntraError(400, "unauthorized_client", 700016,
                         f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. This "
                         "can happen if the application has not been installed by the administrator of the tenant. "
                         "You may have sent your authentication request to the wrong tenant.")
    if assertion:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise EntraError(400, "invalid_request", 50012, f"The client_assertion_type must be '{ASSERTION_TYPE}'.")
        _check_assertion(registry, p, assertion, url_tenant)
    elif form.get("client_secret"):
        if not registry.secret_matches(p, form["client_secret"]):
            raise EntraError(401, "invalid_client", 7000215,
                             "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                             f"secret value, not the client secret ID, for a secret added to app '{p.client_id}'.")
    else:
        raise EntraError(401, "invalid_client", 7000216,
                         "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' "
                         "grant type.")
    resource = _resource(form, v2)
    audience = tokens.arm_audience(resource)
    if audience is None:
        raise EntraError(400, "invalid_resource", 500011,
                         f"The resource principal named {resource} was not found in the tenant named {tenant}. This "
                         "emulator issues tokens for Azure Resource Manager only: "
                         f"{' or '.join(tokens.ARM_AUDIENCES)}.")
    now = int(time.time())
    token, exp = tokens.issue(key, authority=base, tenant=tenant, audience=audience, client_id=p.client_id,
                              object_id=p.object_id, now=now)
    if v2:
        return {"token_type": "Bearer", "expires_in": exp - now, "ext_expires_in": exp - now, "access_token": token}
    return {"token_type": "Bearer", "expires_in": str(exp - now), "ext_expires_in": str(exp - now),
            "expires_on": str(exp), "not_before": str(now), "resource": resource, "access_token": token}
