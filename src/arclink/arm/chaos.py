"""An ASGI wrapper that answers a share of ARM reads with ``429 Too Many Requests`` and ``Retry-After``.

For testing clients' retry paths (``arclink import azure`` must finish with the same result): set
``ARCLINK_CHAOS_429=0.3`` before ``arclink serve`` to throttle 30% of GET requests under
``/subscriptions``. The choice is deterministic (a counter, not a random draw), so a run is
repeatable; the token service and the control API are never throttled.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Awaitable, Callable

ENV = "ARCLINK_CHAOS_429"
RETRY_AFTER = "1"  # seconds, as ARM sends it (an integer)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def share_from_env() -> float:
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return 0.0
    try:
        share = float(raw)
    except ValueError:
        raise ValueError(f"{ENV}={raw!r} is not a number; give the share of reads to throttle, e.g. 0.3") from None
    if not 0.0 <= share < 1.0:
        raise ValueError(f"{ENV}={raw!r} must be at least 0 and below 1")
    return share


class Throttle:
    """Every read whose running count crosses the next multiple of 1/share is answered 429."""

    def __init__(self, app: App, share: float) -> None:
        self.app, self.share = app, share
        self.lock = threading.Lock()
        self.seen = 0
        self.throttled = 0

    def _should(self) -> bool:
        with self.lock:
            self.seen += 1
            due = int(self.seen * self.share) > self.throttled
            if due:
                self.throttled += 1
            return due

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and scope.get("method") == "GET" \
                and str(scope.get("path", "")).lower().startswith("/subscriptions") and self._should():
            body = json.dumps({"error": {"code": "TooManyRequests", "message": "The request is being throttled "
                                         f"(emulator switch {ENV}). Retry after {RETRY_AFTER} second(s)."}}).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"), (b"retry-after", RETRY_AFTER.encode()),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def wrap(app: App) -> App:
    """``app`` throttled as ``ARCLINK_CHAOS_429`` says; unchanged when it is unset or 0."""
    share = share_from_env()
    return Throttle(app, share) if share > 0 else app
