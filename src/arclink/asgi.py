"""What every ASGI face on the emulator's port needs from a request: its body, read with a cap.

ARM, the token service and the portal share the one HTTPS listener; each refuses an oversized body
in its own words (ARM's 413, Entra's ``invalid_request``, the portal's page), so the reader raises
``BodyTooLarge`` and leaves the answer to the face.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]


class BodyTooLarge(Exception):
    """The body passed ``limit`` bytes; ``declared`` is its Content-Length when that said so up front."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        super().__init__(f"the request body is over the limit of {limit} bytes")
        self.limit, self.declared = limit, declared


async def read_body(receive: Receive, limit: int, content_length: str | None = None) -> bytes:
    """The whole request body, never more than ``limit`` bytes held (a client may lie about its length)."""
    if content_length and content_length.isdigit() and int(content_length) > limit:
        raise BodyTooLarge(limit, int(content_length))
    chunks, size = [], 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            break
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not msg.get("more_body"):
            break
    return b"".join(chunks)
