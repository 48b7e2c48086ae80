"""Access tokens the emulator issues (Entra face) and ARM accepts: RS256 JWTs signed by one key.

Shared plumbing so that the token service (``arclink.entra``) and ARM (``arclink.arm``) agree on one
key, one claim set and one list of ARM audiences without importing each other. The key lives in
the state directory (``token-signing-key.pem``, mode 0600) so tokens survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "token-signing-key.pem"
LIFETIME = 3600  # seconds, as Entra's default access-token lifetime
LEEWAY = 30  # seconds of clock skew forgiven, as ARM forgives a little
# The audiences ARM accepts; Azure takes each with or without the trailing slash.
ARM_AUDIENCES = ("https://management.core.windows.net/", "https://management.azure.com/")


def arm_audience(resource: str) -> str | None:
    """The ARM audience ``resource`` names (as given, slash or not), or None when it is not ARM's."""
    canonical = resource.rstrip("/") + "/"
    return resource if canonical.lower() in ARM_AUDIENCES else None


class TokenRejected(Exception):
    """A bearer token ARM must refuse. ``reason`` is one of expired, audience, tenant, invalid."""

    def __init__(self, reason: str, message: str, claims: dict | None = None):
        super().__init__(message)
        self.reason, self.message, self.claims = reason, message, claims or {}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _write_private(path: Path, data: bytes) -> None:
    from arclink.statedir import write_private

    write_private(path, data)  # through no symlink a local user may have planted


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def jwks(self) -> dict:
        """The JSON Web Key Set that publishes this key (as Entra's ``jwks_uri`` does)."""
        numbers = self.public_key.public_numbers()

        def b64int(n: int) -> str:
            return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "x5t": self.kid,
                          "n": b64int(numbers.n), "e": b64int(numbers.e)}]}


def _key_id(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _b64url(hashlib.sha256(der).digest())[:27]


def load_signing_key(state_dir: str | Path | None) -> SigningKey:
    """The state directory's signing key, created on first use; None keeps a fresh one in memory only."""
    path = Path(state_dir) / KEY_FILE if state_dir is not None else None
    if path is not None and path.exists():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(loaded, rsa.RSAPrivateKey):
            return SigningKey(loaded, _key_id(loaded))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return SigningKey(key, _key_id(key))


def issuer(authority: str, tenant: str) -> str:
    """The ``iss`` of an access token, shaped as Entra's v1 issuer (``https://sts.windows.net/{tid}/``)."""
    return f"{authority.rstrip('/')}/{tenant}/"


def issue(key: SigningKey, *, authority: str, tenant: str, audience: str, client_id: str, object_id: str,
          lifetime: int = LIFETIME, now: int | None = None, extra: dict | None = None) -> tuple[str, int]:
    """A signed access token for a service principal (or, with ``extra`` user claims, a user) and its expiry."""
    now = int(time.time()) if now is None else now
    exp = now + lifetime
    claims = {"aud": audience, "iss": issuer(authority, tenant), "iat": now, "nbf": now, "exp": exp,
              "tid": tenant, "oid": object_id, "sub": object_id, "appid": client_id, "appidacr": "1",
              "idtyp": "app", "ver": "1.0", "uti": _b64url(uuid.uuid4().bytes), **(extra or {})}
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "x5t": key.kid})
    return token, exp


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def _utc(ts: Any) -> str:
    """A Unix time as ARM prints it in its messages (``5/1/2024 10:00:00 AM``)."""
    t = time.gmtime(int(ts))
    hour = t.tm_hour % 12 or 12
    return f"{t.tm_mon}/{t.tm_mday}/{t.tm_year} {hour}:{t.tm_min:02d}:{t.tm_sec:02d} {'AM' if t.tm_hour < 12 else 'PM'}"


def verify(key: SigningKey, token: str, *, tenant: str, now: float | None = None) -> dict:
    """The claims of a token this emulator signed for ARM, else ``TokenRejected`` saying why."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, key.public_key, algorithms=["RS256"],
                            options={"verify_exp": False, "verify_aud": False, "verify_iat": False,
                                     "verify_nbf": False, "require": ["exp", "aud", "tid"]})
    except jwt.InvalidSignatureError:
        raise TokenRejected("invalid", "The access token has invalid signature.") from None
    except jwt.PyJWTError as exc:
        raise TokenRejected("invalid", f"The access token is invalid: {exc}.") from None
    if header.get("kid") not in (None, key.kid):
        raise TokenRejected("invalid", "The access token has invalid signature.")
    now = time.time() if now is None else now
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat", 0))
    if not isinstance(exp, (int, float)) or not isinstance(nbf, (int, float)):
        raise TokenRejected("invalid", "The access token is invalid: 'exp' and 'nbf' must be numbers.")
    if exp + LEEWAY < now:
        raise TokenRejected("expired", f"The access token expiry UTC time '{_utc(exp)}' is earlier than current UTC "
                                       f"time '{_utc(now)}'.", claims)
    if nbf - LEEWAY > now:
        raise TokenRejected("invalid", f"The access token is not valid before UTC time '{_utc(nbf)}'.", claims)
    aud = claims.get("aud")
    if not isinstance(aud, str) or arm_audience(aud) is None:
        allowed = ",".join(f"'{a}','{a.rstrip('/')}'" for a in ARM_AUDIENCES)
        raise TokenRejected("audience", f"The access token has been obtained for wrong audience or resource '{aud}'. "
                                        f"It should exactly match with one of the allowed audiences {allowed}.", claims)
    tid = claims.get("tid")
    if not isinstance(tid, str) or tid.lower() != tenant.lower():
        raise TokenRejected("tenant", f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match "
                                      f"the tenant '{tenant}' associated with this subscription. Please use the "
                                      f"authority (URL) of this emulator with tenant '{tenant}' to get the token.",
                            claims)
    if not (claims.get("oid") or claims.get("appid")):
        raise TokenRejected("invalid", "The received access token is not valid: at least one of the claims 'oid' or "
                                       "'appid' should be present.", claims)
    return claims
