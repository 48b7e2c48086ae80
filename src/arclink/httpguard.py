"""The ARM listener's limits, as a uvicorn HTTP protocol class: caps at accept, TLS, head and time limits.

uvicorn caps neither connections per source nor the TLS handshake's time nor the size of
a request head under httptools, and it starts no timer before a connection's first
request: an idle client stays for ever. So ``serve_guarded`` runs uvicorn's server on an
event loop whose ``create_server`` is an accept loop of ours: at accept it counts the
connection (total, per source, spare descriptors) or closes it, then runs the TLS
handshake under ``handshake_timeout`` and only then gives the connection to uvicorn's
protocol, wrapped by ``guarded_protocol``: every request head is checked before uvicorn
sees it (size, header count), and a whole request must arrive within ``header_timeout`` of
its first byte; between requests uvicorn's keep-alive timeout (``idle_timeout``) applies.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Sequence
from typing import Any, Callable

from arclink.limits import Limits, SourceCounter

__all__ = ["guarded_protocol", "serve_guarded"]

log = logging.getLogger("arclink.serve")

_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
              b"connection: close\r\ncontent-length: %d\r\n\r\n%s")


def _base_protocol() -> type:
    """uvicorn's "auto" choice: httptools when installed, else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol


def guarded_protocol(limits: Limits, base: type | None = None) -> tuple[type, SourceCounter]:
    """A uvicorn protocol class (``uvicorn.Config(http=...)``) enforcing ``limits`` on requests, and its counter."""
    counter = SourceCounter(limits.max_connections, limits.max_connections_per_source, limits.fd_reserve)
    parent: Any = base or _base_protocol()

    class Guarded(parent):
        _source: str | None = None  # set by the accept loop when it counted the connection
        _deadline: asyncio.TimerHandle | None = None
        _in_request = False
        _head = bytearray()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self._head = bytearray()
            super().connection_made(transport)
            self._arm_deadline()

        def release(self) -> None:
            """Uncount the connection (once): when it closes, or when its TLS handshake fails."""
            if self._source is not None:
                counter.release(self._source)
                self._source = None
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def connection_lost(self, exc: Exception | None) -> None:
            self.release()
            super().connection_lost(exc)

        def _arm_deadline(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(limits.header_timeout, self._too_slow)

        def _too_slow(self) -> None:
            self._deadline = None
            log.debug("ARM closed a connection from %s: no whole request within %gs", self._source,
                      limits.header_timeout)
            self.transport.close()

        def _refuse_head(self, why: str) -> None:
            body = f"{why}; send at most {limits.max_headers} headers in {limits.max_header_bytes} bytes.".encode()
            self.transport.write(_TOO_LARGE % (len(body), body))
            self.transport.close()

        def data_received(self, data: bytes) -> None:
            if self.transport.is_closing():
                return
            if not self._in_request:
                self._arm_deadline()  # the first byte of a request starts its clock; more bytes do not
                self._head += data
                end = self._head.find(b"\r\n\r\n")
                head = self._head if end < 0 else self._head[:end]
                if len(head) > limits.max_header_bytes:
                    self._refuse_head("The request head is too large")
                    return
                if head.count(b"\n") > limits.max_headers:
                    self._refuse_head("The request has too many headers")
                    return
                if end >= 0:
                    self._head = bytearray()
                    self._in_request = True
            super().data_received(data)
            cycle = self.cycle
            if self._in_request and self._deadline is not None and cycle is not None and not cycle.more_body:
                self._deadline.cancel()  # the whole request is in: now it is the application's time
                self._deadline = None

        def on_response_complete(self) -> None:
            self._in_request = False
            super().on_response_complete()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{parent.__name__}"
    return Guarded, counter


class _Acceptor:
    """What ``create_server`` returns to uvicorn: our accept loop, with ``close()`` and ``wait_closed()``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, factory: Callable[[], Any], sock: socket.socket,
                 ctx: ssl.SSLContext | None, backlog: int, limits: Limits, counter: SourceCounter) -> None:
        self.loop, self.factory, self.sock, self.ctx = loop, factory, sock, ctx
        self.limits, self.counter = limits, counter
        sock.listen(backlog)
        sock.setblocking(False)
        self.sockets = [sock]
        self._handshakes: set[asyncio.Task] = set()
        self._task = loop.create_task(self._accept())

    async def _accept(self) -> None:
        while True:
            try:
                conn, addr = await self.loop.sock_accept(self.sock)
            except OSError as exc:  # EMFILE and friends: back off rather than spin
                log.warning("ARM accept failed: %s", exc)
                await asyncio.sleep(0.05)
                continue
            source = str(addr[0])
            why = self.counter.admit(source, conn.fileno())
            if why is not None:
                log.debug("ARM refused a connection from %s: %s", source, why)
                conn.close()
                continue
            task = self.loop.create_task(self._open(conn, source))
            self._handshakes.add(task)
            task.add_done_callback(self._handshakes.discard)

    async def _open(self, conn: socket.socket, source: str) -> None:
        made: list[Any] = []

        def protocol() -> Any:
            p = self.factory()
            p._source = source
            made.append(p)
            return p

        try:
            await self.loop.connect_accepted_socket(protocol, sock=conn, ssl=self.ctx,
                                                    ssl_handshake_timeout=self.limits.handshake_timeout)
        except BaseException as exc:
            conn.close()
            if made:
                made[0].release()
            else:
                self.counter.release(source)
            if isinstance(exc, asyncio.CancelledError):
                raise
            log.debug("ARM closed a connection from %s during the TLS handshake: %r", source, exc)

    def close(self) -> None:
        self._task.cancel()
        for t in list(self._handshakes):
            t.cancel()
        self.sock.close()

    async def wait_closed(self) -> None:
        await asyncio.gather(self._task, *self._handshakes, return_exceptions=True)


def _loop_class() -> type:
    try:
        import uvloop

        return uvloop.Loop
    except ImportError:
        return asyncio.SelectorEventLoop


def serve_guarded(server: Any, sock: socket.socket, ctx: ssl.SSLContext, limits: Limits,
                  counter: SourceCounter, more: Sequence[socket.socket] = ()) -> None:
    """Run ``server`` (a ``uvicorn.Server``) on ``sock`` (and ``more``: the lab's sockets on ARM's public
    addresses) until it exits; TLS with ``ctx``; call in its own thread."""
    base: Any = _loop_class()

    class GuardedLoop(base):
        async def create_server(self, protocol_factory: Callable[[], Any], *args: Any, sock: socket.socket,
                                ssl: ssl.SSLContext | None = None, backlog: int = 2048, **kw: Any) -> _Acceptor:
            return _Acceptor(self, protocol_factory, sock, ctx, backlog, limits, counter)

    with asyncio.Runner(loop_factory=GuardedLoop) as runner:
        runner.run(server.serve(sockets=[sock, *more]))
