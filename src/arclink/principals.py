"""The emulator's service principals (app registrations): client ids, secrets, certificates.

Shared by the token service (``arclink.entra``, which checks credentials) and ARM's control API
(which adds and removes principals), so neither imports the other. Kept in the state directory as
``principals.json`` (mode 0600, it holds secrets). With ``--in-memory`` only the default principal,
the one created with the state and named in ``endpoints.json``, is written, so that it stays the
same across restarts as the static token does; the others live in memory.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

FILE = "principals.json"
DEFAULT_USER = "admin@arclink.local"
# The portal's app registration (a public client, as the Azure portal's own is): the token service
# lets it sign users in with the authorization-code grant and PKCE, redirecting to /portal/ only.
PORTAL_CLIENT_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
PORTAL_REDIRECT_PATH = "/portal/signin/callback"


class PrincipalError(ValueError):
    """A request about principals that cannot be honoured: one sentence and the fix."""


@dataclass
class Principal:
    client_id: str
    object_id: str
    display_name: str
    secrets: list[str] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)  # PEM
    default: bool = False

    def public(self) -> dict:
        """What the control API shows (no secrets)."""
        return {"clientId": self.client_id, "objectId": self.object_id, "displayName": self.display_name,
                "certificateThumbprints": [thumbprints(pem)[0] for pem in self.certificates],
                "hasSecret": bool(self.secrets), "default": self.default}


@dataclass
class User:
    """A person of the tenant who signs in interactively (the portal's authorization-code flow)."""

    username: str  # user principal name, e.g. admin@arclink.local
    object_id: str
    display_name: str
    passwords: list[str] = field(default_factory=list)
    default: bool = False


def thumbprints(cert_pem: str) -> tuple[str, str]:
    """SHA-1 and SHA-256 thumbprints of a PEM certificate, upper-case hex (as the portal shows them)."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return cert.fingerprint(hashes.SHA1()).hex().upper(), cert.fingerprint(hashes.SHA256()).hex().upper()  # noqa: S303


def _check_certificate(pem: str) -> str:
    try:
        x509.load_pem_x509_certificate(pem.encode())
    except (ValueError, TypeError):
        raise PrincipalError("The certificate is not a PEM X.509 certificate; send the public certificate "
                             "('-----BEGIN CERTIFICATE-----'), not the key.") from None
    return pem


class Registry:
    """The service principals of one emulator tenant."""

    def __init__(self, path: Path | None, *, persist_all: bool = True):
        self._path, self._persist_all = path, persist_all
        self._lock = threading.Lock()
        self._by_id: dict[str, Principal] = {}
        self._users: dict[str, User] = {}
        if path is not None and path.exists():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                for item in doc.get("principals", []):
                    p = Principal(**item)
                    self._by_id[p.client_id.lower()] = p
                for item in doc.get("users", []):
                    u = User(**item)
                    self._users[u.username.lower()] = u
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                raise PrincipalError(f"{path} is not a readable principals file ({exc}); remove it to start with a "
                                     "new default principal.") from None

    def ensure_default(self) -> tuple[Principal, str]:
        """The principal created with the state, and its secret."""
        with self._lock:
            for p in self._by_id.values():
                if p.default and p.secrets:
                    return p, p.secrets[0]
        p, secret = self.add("arclink-default", default=True)
        return p, secret or ""

    def add(self, display_name: str | None = None, *, certificate_pem: str | None = None, with_secret: bool = True,
            default: bool = False) -> tuple[Principal, str | None]:
        """A new principal; its secret (shown once) when ``with_secret``."""
        certs = [_check_certificate(certificate_pem)] if certificate_pem else []
        if not with_secret and not certs:
            raise PrincipalError("A principal needs a secret or a certificate; ask for a secret or send a certificate.")
        secret = secrets.token_urlsafe(30) if with_secret else None
        p = Principal(client_id=str(uuid.uuid4()), object_id=str(uuid.uuid4()),
                      display_name=display_name or "arclink-principal", secrets=[secret] if secret else [],
                      certificates=certs, default=default)
        with self._lock:
            self._by_id[p.client_id.lower()] = p
            self._save()
        return p, secret

    def remove(self, client_id: str) -> bool:
        with self._lock:
            p = self._by_id.get(client_id.lower())
            if p is None:
                return False
            if p.default:
                raise PrincipalError("The default principal (the one in endpoints.json) cannot be removed; remove "
                                     "another or start from a new --state.")
            del self._by_id[client_id.lower()]
            self._save()
            return True

    def get(self, client_id: str) -> Principal | None:
        with self._lock:
            return self._by_id.get(client_id.lower())

    def all(self) -> list[Principal]:
        with self._lock:
            return list(self._by_id.values())

    @staticmethod
    def secret_matches(p: Principal, secret: str) -> bool:
        given = secret.encode()
        return any(hmac.compare_digest(given, s.encode()) for s in p.secrets)

    @staticmethod
    def certificate(p: Principal, *, sha1: str | None = None, sha256: str | None = None) -> x509.Certificate | None:
        """The registered certificate whose thumbprint (hex, any case) is given, else None."""
        for pem in p.certificates:
            t1, t256 = thumbprints(pem)
            if (sha1 and sha1.upper() == t1) or (sha256 and sha256.upper() == t256):
                return x509.load_pem_x509_certificate(pem.encode())
        return None

    # users ------------------------------------------------------------------------------
    def ensure_default_user(self) -> tuple[User, str]:
        """The user created with the state, and its password."""
        with self._lock:
            for u in self._users.values():
                if u.default and u.passwords:
                    return u, u.passwords[0]
            u = User(username=DEFAULT_USER, object_id=str(uuid.uuid4()), display_name="arclink administrator",
                     passwords=[secrets.token_urlsafe(18)], default=True)
            self._users[u.username.lower()] = u
            self._save()
            return u, u.passwords[0]

    def user(self, username: str) -> User | None:
        with self._lock:
            return self._users.get(username.strip().lower())

    def user_by_object_id(self, object_id: str) -> User | None:
        with self._lock:
            return next((u for u in self._users.values() if u.object_id == object_id), None)

    def sign_in(self, username: str, password: str) -> User | None:
        """The user whose name and password these are, else None (no hint which of the two was wrong)."""
        u = self.user(username)
        given = password.encode()
        if u is None or not any(hmac.compare_digest(given, p.encode()) for p in u.passwords):
            return None
        return u

    def _save(self) -> None:
        if self._path is None:
            return
        kept = [asdict(p) for p in self._by_id.values() if self._persist_all or p.default]
        users = [asdict(u) for u in self._users.values() if self._persist_all or u.default]
        from arclink.statedir import write_private

        # a fresh 0600 file renamed into place: a planted principals.json.tmp link redirects nothing
        write_private(self._path, json.dumps({"principals": kept, "users": users}, indent=2))


def open_registry(state_dir: str | Path, *, in_memory: bool = False) -> Registry:
    return Registry(Path(state_dir) / FILE, persist_all=not in_memory)
