"""Who is signed in: server-side sessions behind an HttpOnly cookie, and the PKCE sign-ins under way.

A session holds the bearer token the portal calls ARM with (a user's access token from the
authorization-code grant, or the static token of ``endpoints.json``), a CSRF token every form
carries, and one message to show after a redirect.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "arclink_portal"
PKCE_COOKIE = "arclink_portal_signin"
IDLE = 8 * 3600  # seconds a session lives without use
SIGNIN_WINDOW = 600  # seconds to finish a sign-in


@dataclass
class Session:
    token: str
    user: str
    csrf: str
    expires: float  # the token's expiry (monotonic) or inf for the static token
    seen: float
    flash: tuple | None = None

    def take_flash(self) -> tuple | None:
        f, self.flash = self.flash, None
        return f


@dataclass
class PendingSignIn:
    verifier: str
    started: float


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Sessions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Session] = {}
        self._pending: dict[str, PendingSignIn] = {}

    def create(self, token: str, user: str, lifetime: float | None) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._by_id[sid] = Session(token, user, secrets.token_urlsafe(24),
                                       now + lifetime if lifetime else float("inf"), now)
        return sid

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        now = time.monotonic()
        with self._lock:
            s = self._by_id.get(sid)
            if s is None:
                return None
            if s.expires < now or s.seen + IDLE < now:
                del self._by_id[sid]
                return None
            s.seen = now
            return s

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._by_id.pop(sid or "", None)

    def start_signin(self) -> tuple[str, str]:
        """(state, code_challenge) of a new sign-in; its verifier stays here."""
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        now = time.monotonic()
        with self._lock:
            for k in [k for k, p in self._pending.items() if p.started + SIGNIN_WINDOW < now]:
                del self._pending[k]
            self._pending[state] = PendingSignIn(verifier, now)
        return state, challenge(verifier)

    def finish_signin(self, state: str) -> str | None:
        """The verifier of the sign-in ``state`` names, once."""
        with self._lock:
            p = self._pending.pop(state, None)
        return p.verifier if p and p.started + SIGNIN_WINDOW >= time.monotonic() else None
