"""How a connection reaches the gateway's TLS: its PROXY v2 header, read without reading past it.

The listener is the event loop's own (``loop.create_server``), so connections are accepted
without a Python step each. Every connection starts with ``HeaderProtocol``, a buffered
protocol whose buffers are never longer than what is left of the header: the loop reads the
shortest header that carries addresses (28 bytes, an IPv4 agent's whole header), then whatever
the fixed part says follows, and not one byte of the TLS ClientHello behind it. Reading then
pauses and the gateway upgrades the same transport with ``loop.start_tls``.

The lab's listeners (``real_source``) take connections that may start with TLS and no header,
which needs a peek at the first byte; they accept with ``sock_accept`` and read the header from
the socket (``read_socket_header``).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Callable, Protocol, cast

from arclink.model.wire import HEADER_LEN, ProxyHeader, ProxyHeaderError, body_length, decode_proxy_v2


TCP4_ADDRESSES = 12  # two IPv4 addresses and two ports: the least a PROXY command carries


class HeaderSink(Protocol):
    """What the gateway does with a connection once its header is read, or could not be."""

    header_timeout: float
    reading_headers: set[HeaderProtocol]  # closed when the gateway stops

    def admit_connection(self, peer: str, fileno: int) -> bool: ...

    def release_connection(self, peer: str) -> None: ...

    def bad_header(self, reason: str) -> None: ...

    def header_read(self, transport: asyncio.Transport, header: ProxyHeader, release: Callable[[], None]) -> None: ...


class HeaderProtocol(asyncio.BufferedProtocol):
    """Reads one PROXY v2 header, then pauses the transport and hands it to the gateway."""

    def __init__(self, sink: HeaderSink) -> None:
        self.sink = sink
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.counted = False
        self.handed_over = False
        # The shortest header with addresses (TCP over IPv4) in one read; a LOCAL header is shorter,
        # and what may follow it is never read as TLS (the connection is closed).
        self.head = bytearray(HEADER_LEN + TCP4_ADDRESSES)
        self.length: int | None = None  # of the addresses and TLVs, once the fixed part is read
        self.rest = bytearray()
        self.got = 0
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = tr = cast(asyncio.Transport, transport)  # a stream server's: a Transport
        peername = tr.get_extra_info("peername")
        self.peer = str(peername[0]) if peername else ""  # counted by the real peer, not the PROXY source
        sock = tr.get_extra_info("socket")
        if not self.sink.admit_connection(self.peer, sock.fileno() if sock is not None else -1):
            tr.abort()
            return
        self.counted = True
        self.sink.reading_headers.add(self)
        self.timer = asyncio.get_running_loop().call_later(self.sink.header_timeout, self._too_slow)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.got < len(self.head):
            return memoryview(self.head)[self.got:]
        return memoryview(self.rest)[self.got - len(self.head):]

    def buffer_updated(self, nbytes: int) -> None:
        self.got += nbytes
        if self.got < HEADER_LEN:
            return
        try:
            if self.length is None:
                self.length = body_length(bytes(self.head[:HEADER_LEN]))
                # the rest in a fresh buffer: the loop may still hold a view of the first
                self.rest = bytearray(max(0, HEADER_LEN + self.length - len(self.head)))
            if self.got < HEADER_LEN + self.length:
                return
            data = bytes(self.head) + bytes(self.rest)
            header = decode_proxy_v2(data[:HEADER_LEN], data[HEADER_LEN:HEADER_LEN + self.length], checked=True)
        except ProxyHeaderError as exc:
            self._drop(str(exc))
            return
        tr = self.transport
        assert tr is not None  # connection_made ran
        tr.pause_reading()  # the rest is TLS, read by the protocol start_tls puts in place
        self._stop_timer()
        if header.local or header.src is None or header.dst is None:  # LOCAL: a health check, no addresses
            tr.close()
            return
        self.handed_over = True
        self.sink.reading_headers.discard(self)
        self.sink.header_read(tr, header, self._release)

    def eof_received(self) -> bool:
        self._drop("the connection closed before the PROXY header was complete")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        if not self.handed_over:
            self.sink.reading_headers.discard(self)
            self._release()

    def abort(self) -> None:
        """Close the connection now (the gateway is stopping)."""
        self._stop_timer()
        if self.transport is not None:
            self.transport.abort()

    def _too_slow(self) -> None:
        self.timer = None
        self._drop("no PROXY header in time")

    def _drop(self, reason: str) -> None:
        self._stop_timer()
        self.sink.bad_header(reason)
        if self.transport is not None:
            self.transport.close()

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _release(self) -> None:
        if self.counted:
            self.counted = False
            self.sink.release_connection(self.peer)


# --- the lab's path: a socket accepted in Python ------------------------------------------------


class RealAddresses:
    """The connection's own source and destination, where no PROXY header carries modelled ones."""

    local = False

    def __init__(self, conn: socket.socket) -> None:
        self.src, self.dst = conn.getpeername()[0], conn.getsockname()[0]


async def read_socket_header(loop: asyncio.AbstractEventLoop, conn: socket.socket,
                             real_source: bool) -> RealAddresses | ProxyHeader:
    """The PROXY header read byte-exactly from ``conn``, or its real addresses when it starts with TLS."""
    if real_source and await _starts_with_tls(loop, conn):
        return RealAddresses(conn)
    head = await _recv_exact(loop, conn, HEADER_LEN)
    body = await _recv_exact(loop, conn, body_length(head))
    return decode_proxy_v2(head, body)


async def _starts_with_tls(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> bool:
    """Peek (without consuming) the first byte: 0x16 opens a TLS handshake, a PROXY v2 header opens with CR."""
    while True:
        try:
            first = conn.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            fut: asyncio.Future[None] = loop.create_future()

            def wake() -> None:
                if not fut.done():
                    fut.set_result(None)

            loop.add_reader(conn.fileno(), wake)
            try:
                await fut
            finally:
                loop.remove_reader(conn.fileno())
            continue
        return first == b"\x16"


async def _recv_exact(loop: asyncio.AbstractEventLoop, conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        try:  # the header is usually there already: read it without a trip through the loop
            chunk = conn.recv(n - len(buf))
        except BlockingIOError:
            chunk = await loop.sock_recv(conn, n - len(buf))
        if not chunk:
            raise ConnectionError("the connection closed before the PROXY header was complete")
        buf += chunk
    return buf


__all__ = ["HeaderProtocol", "HeaderSink", "RealAddresses", "read_socket_header"]
