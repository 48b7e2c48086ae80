"""What the DNS process answers from: the names index of the emulator that started it.

The link between the two processes carries length-prefixed msgpack messages (``Link``). The DNS
process asks for what names resolve from with ``{"kind": "want", "generation": g}``; the emulator
answers ``{"kind": "names", "generation": g2, "objects": [...], "onprem": {...}}`` with g2 >= g,
read before the objects, so the index built from them includes at least g2's writes (or
``{"kind": "names", "error": why}``). The DNS process says ``{"kind": "ready"}`` once it answers,
or ``{"kind": "failed", "error": why}``. Closing the link stops the DNS process.

``FeedState`` is a ``LiveState`` for names alone: on every query it compares the emulator's count
of writes that change names (a ``SharedCounter``) with the count its index includes, and fetches
a new index only when they differ, so a query made after a write's response sees that write.
"""

from __future__ import annotations

import logging
import queue
import socket
import struct
import threading
import time
from typing import Any, Callable

import msgspec

from arclink.model.index import Index
from arclink.model.live import LiveState
from arclink.sharedcounter import SharedCounter

__all__ = ["FETCH_TIMEOUT", "FeedState", "Link", "LinkClosed"]

log = logging.getLogger("arclink.dns")

FETCH_TIMEOUT = 30.0  # the emulator builds the payload from hundreds of resources: well under this
RETRY_AFTER = 1.0  # after a failed fetch, queries answer from the last index this long before asking again
MAX_MESSAGE = 1 << 30
_HEADER = struct.Struct("!I")


class LinkClosed(Exception):
    """The other process closed the link (or died)."""


class Link:
    """Messages (dicts) over a connected stream socket. ``send`` from any thread; ``recv`` from one."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._send_lock = threading.Lock()
        self._encode = msgspec.msgpack.Encoder().encode
        self._decode = msgspec.msgpack.Decoder(dict).decode

    def send(self, message: dict[str, Any]) -> None:
        data = self._encode(message)
        with self._send_lock:
            try:
                self.sock.sendall(_HEADER.pack(len(data)) + data)
            except OSError as exc:
                raise LinkClosed(str(exc)) from None

    def recv(self) -> dict[str, Any]:
        size = _HEADER.unpack(self._exactly(_HEADER.size))[0]
        if size > MAX_MESSAGE:
            raise LinkClosed(f"a message of {size} bytes")
        return self._decode(self._exactly(size))

    def _exactly(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            except OSError as exc:
                raise LinkClosed(str(exc)) from None
            if not chunk:
                raise LinkClosed("end of stream")
            buf += chunk
        return bytes(buf)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class FeedState(LiveState):
    """Names only, from the emulator across ``link``; ``counter`` is its count of names writes.

    ``build(objects, onprem)`` makes the index (``model.arm_codec.index_from_resources``).
    A reader thread takes every message off the link; when the link closes, ``closed`` is set.
    """

    def __init__(self, link: Link, counter: SharedCounter, build: Callable[[list, dict], Index],
                 timeout: float = FETCH_TIMEOUT) -> None:
        self._link, self._counter, self._build, self._timeout = link, counter, build, timeout
        self._replies: queue.SimpleQueue[dict | None] = queue.SimpleQueue()
        self.closed = threading.Event()
        self._fetch_lock = threading.Lock()
        self._retry_at = 0.0
        threading.Thread(target=self._read, name="arclink-dns-link", daemon=True).start()
        have, index = self._fetch(counter.value)
        super().__init__(index)
        self._have = have

    def _read(self) -> None:
        try:
            while True:
                self._replies.put(self._link.recv())
        except LinkClosed:
            pass
        except Exception:  # a message we cannot read: the link is of no further use
            log.exception("the link to the emulator broke")
        self.closed.set()
        self._replies.put(None)

    def _fetch(self, want: int) -> tuple[int, Index]:
        """(generation, index) for at least ``want``; raises when the emulator sends none."""
        self._link.send({"kind": "want", "generation": want})
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"the emulator sent no names in {self._timeout:g} s") from None
            if reply is None:
                self._replies.put(None)  # for the next reader too
                raise LinkClosed("the emulator closed the link")
            if reply.get("kind") != "names":
                continue
            if "error" in reply:
                raise RuntimeError(str(reply["error"]))
            if reply["generation"] >= want:  # an older reply answered a request that timed out
                return reply["generation"], self._build(reply["objects"], reply["onprem"])

    def snapshot_names(self) -> tuple[int, Index]:
        if self._counter.value != self._have:
            self._catch_up()
        return super().snapshot_names()

    @property
    def names_version(self) -> int:
        return self.snapshot_names()[0]

    def _catch_up(self) -> None:
        with self._fetch_lock:
            want = self._counter.value
            if want == self._have or time.monotonic() < self._retry_at:
                return
            try:
                have, index = self._fetch(want)
            except (LinkClosed, TimeoutError, RuntimeError, ValueError, KeyError, TypeError) as exc:
                # answering from the last index beats not answering; the next try waits a moment
                log.warning("DNS answers from the last names it has: %s", exc)
                self._retry_at = time.monotonic() + RETRY_AFTER
                return
            self.publish(index)
            self._have = have
