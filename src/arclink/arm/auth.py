"""Who may call ARM: the bearer check, the tenant list ``az login`` reads, and the control API's
service principals (``/_arclink/principals``).

A bearer token is either the static token of ``endpoints.json`` (the first way in, kept for existing
users) or an access token the emulator's token service signed (``arclink.tokens``). A bad token is
answered with ARM's 401 codes and a ``WWW-Authenticate`` header naming the emulator's authority.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import msgspec

from arclink import tokens
from arclink.arm.engine import Result
from arclink.arm.errors import ArmError, bad_request
from arclink.principals import PrincipalError, Registry

_CODES = {"expired": "ExpiredAuthenticationToken", "audience": "InvalidAuthenticationTokenAudience",
          "tenant": "InvalidAuthenticationTokenTenant", "invalid": "InvalidAuthenticationToken"}


def _challenge(authority: str, tenant: str, description: str) -> dict:
    quoted = description.replace('"', "'")
    return {"WWW-Authenticate": f'Bearer authorization_uri="{authority.rstrip("/")}/{tenant}", '
                                f'error="invalid_token", error_description="{quoted}"'}


class VerifiedTokens:
    """Access tokens already verified, by value, until they expire.

    A client sends the same token on every request for its lifetime (an hour); verifying its RSA
    signature each time would cost more than the rest of a GET. An entry answers only for the key
    and tenant it was verified against, and only until the moment ``tokens.verify`` would call
    the token expired; after that the token is verified afresh (and refused with the reason)."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._until: dict[tuple[str, int, str], tuple[float, dict]] = {}

    def get(self, token: str, key: tokens.SigningKey, tenant: str, now: float) -> dict | None:
        hit = self._until.get((token, id(key), tenant))
        if hit is None:
            return None
        if now > hit[0]:
            del self._until[(token, id(key), tenant)]
            return None
        return hit[1]

    def add(self, token: str, key: tokens.SigningKey, tenant: str, claims: dict) -> None:
        if len(self._until) >= self.limit:  # many distinct live tokens: start afresh rather than grow
            self._until.clear()
        self._until[(token, id(key), tenant)] = (claims["exp"] + tokens.LEEWAY, claims)


def check_bearer(authorization: str | None, *, static_token: bytes, tenant: str, authority: str,
                 key: tokens.SigningKey | None, verified: VerifiedTokens | None = None,
                 now: float | None = None) -> dict | None:
    """The token's claims (None for the static token), else the ``ArmError`` ARM answers.

    ``verified`` remembers the access tokens that passed, so each is verified once until it expires."""
    if not authorization:
        msg = "Authentication failed. The 'Authorization' header is missing."
        raise ArmError(401, "AuthenticationFailed", msg, headers=_challenge(authority, tenant, msg))
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and hmac.compare_digest(token.encode("latin-1", "replace"), static_token):
        return None
    if scheme.lower() == "bearer" and key is not None and tokens.looks_like_jwt(token):
        now = time.time() if now is None else now
        if verified is not None and (claims := verified.get(token, key, tenant, now)) is not None:
            return claims
        try:
            claims = tokens.verify(key, token, tenant=tenant, now=now)
        except tokens.TokenRejected as exc:
            raise ArmError(401, _CODES[exc.reason], exc.message,
                           headers=_challenge(authority, tenant, exc.message)) from None
        if verified is not None:
            verified.add(token, key, tenant, claims)
        return claims
    msg = ("The access token is invalid. Use the token in the emulator's endpoints.json, or one from its token "
           "service (az login --service-principal, ClientSecretCredential).")
    raise ArmError(401, "InvalidAuthenticationToken", msg, headers=_challenge(authority, tenant, msg))


def principals(registry: Registry | None, tenant: str, method: str, parts: list[str], body: bytes) -> Result:
    """``/_arclink/principals``: GET lists, POST adds (``{"displayName", "certificate": PEM, "secret": bool}``,
    answers the secret once), ``DELETE /_arclink/principals/{clientId}`` removes."""
    if registry is None:
        raise ArmError(404, "NotFound", "This emulator was started without a token service; there are no principals.")
    if method == "GET" and len(parts) == 1:
        return Result(200, {"value": [p.public() for p in registry.all()], "tenant": tenant})
    if method == "POST" and len(parts) == 1:
        doc = _object(body)
        cert, name = doc.get("certificate"), doc.get("displayName")
        want_secret = doc.get("secret", cert is None)
        if (cert is not None and not isinstance(cert, str)) or (name is not None and not isinstance(name, str)) \
                or not isinstance(want_secret, bool):
            raise bad_request("InvalidRequestContent", "'displayName' and 'certificate' (PEM) are strings and "
                                                       "'secret' is true or false.")
        try:
            p, secret = registry.add(name, certificate_pem=cert, with_secret=want_secret)
        except PrincipalError as exc:
            raise bad_request("InvalidRequestContent", str(exc)) from None
        out: dict[str, Any] = {**p.public(), "tenant": tenant}
        if secret:
            out["clientSecret"] = secret
        return Result(201, out)
    if method == "DELETE" and len(parts) == 2:
        try:
            removed = registry.remove(parts[1])
        except PrincipalError as exc:
            raise ArmError(409, "Conflict", str(exc)) from None
        return Result(200 if removed else 204, None)
    raise ArmError(405, "MethodNotAllowed", f"The method '{method}' is not allowed here; use GET or POST on "
                                            "/_arclink/principals, DELETE on /_arclink/principals/{clientId}.")


def _object(body: bytes) -> dict:
    try:
        doc = msgspec.json.decode(body) if body and body.strip() else {}
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise bad_request("InvalidRequestContent", f"The body is not JSON: {exc}.") from None
    if not isinstance(doc, dict):
        raise bad_request("InvalidRequestContent", "The body must be a JSON object.")
    return doc
