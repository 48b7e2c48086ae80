"""Repeat reads without routing: a GET of a URL the front door already answered with a stored body.

A GET of one resource is answered with the bytes the store keeps for it (the body does not
depend on the api-version). Routing, the api-version policy and the type lookup are the same
for every GET of the same URL under the same policy mode, so once the full path has answered a
URL that way (``ArmApp._dispatch_noting_reads``), ``PlainReads`` remembers which stored key it
named. The next GET of that URL is then an authorization check, two dict lookups and a write.

Anything else falls back to the full path, which decides as before: an unknown URL, a resource
that is gone (the 404 names what is missing), a request with a body, an authorization that is not
the static token or an access token already verified and not yet expired (every refusal and its
401 body come from ``auth.check_bearer``).
"""

from __future__ import annotations

import hmac
import time

from arclink import tokens
from arclink.arm import auth
from arclink.arm.config import ArmConfig
from arclink.arm.wire import Send, request_id

_LIMIT = 100_000  # remembered URLs; past it the memory starts afresh
_JSON = (b"content-type", b"application/json; charset=utf-8")


class PlainReads:
    def __init__(self, static_token: bytes, verified: auth.VerifiedTokens, config: ArmConfig) -> None:
        self._static = static_token
        self._static_header = b"Bearer " + static_token
        self._verified = verified
        self._config = config
        self._keys: dict[tuple[str, bytes, str], str] = {}

    def remember(self, scope: dict, key: str) -> None:
        if len(self._keys) >= _LIMIT:
            self._keys.clear()
        self._keys[(scope["path"], scope.get("query_string", b""), self._config.api_version_check)] = key

    def answer(self, scope: dict, bodies: dict[str, bytes]) -> bytes | None:
        """The stored body that answers this GET, or None: take the full path."""
        key = self._keys.get((scope["path"], scope.get("query_string", b""), self._config.api_version_check))
        if key is None:
            return None
        body = bodies.get(key)
        if body is None:
            return None
        authorization = None
        for name, value in scope["headers"]:
            name = name.lower()
            if name == b"authorization":
                authorization = value  # the last one counts, as in the full path's header dict
            elif name == b"content-length" or name == b"transfer-encoding":
                return None  # a body on a GET: the full path reads it (and refuses one over the limit)
        if authorization is None:
            return None
        if hmac.compare_digest(authorization, self._static_header) or self._known(authorization):
            return body
        return None

    def _known(self, authorization: bytes) -> bool:
        """The header carries the static token or an access token verified before and still valid."""
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer":
            return False
        token = token.strip()
        if hmac.compare_digest(token.encode("latin-1", "replace"), self._static):
            return True
        key = self._config.signing_key
        if key is None or not tokens.looks_like_jwt(token):
            return False
        return self._verified.get(token, key, self._config.tenant, time.time()) is not None


async def send_stored(send: Send, body: bytes) -> None:
    """A 200 with a stored JSON body, with the headers ``wire.send_result`` gives it."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"x-ms-request-id", request_id()), _JSON, (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})
