"""The DNS server: UDP and TCP on one loopback port, in its own thread and asyncio loop.

``start_dns_server(live)`` answers every query from ``live.snapshot()``: the ARM emulator
publishes a new index after each write and the next query sees it. Answers go through a
``QueryCache`` (``arclink.dns.cache``), dropped whenever the live version changes.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import Any, cast

from arclink.dns.cache import QueryCache
from arclink.dns.wire import answer
from arclink.limits import Limits, SourceCounter
from arclink.loopthread import LoopThread
from arclink.model.index import Index
from arclink.model.live import LiveState
from arclink.net import is_loopback_address

__all__ = ["DnsServer", "answer", "start_dns_server"]

log = logging.getLogger("arclink.dns")

UDP_BUFFER_BYTES = 4 << 20
START_TIMEOUT = 10.0


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, cache: QueryCache) -> None:
        self.cache = cache
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # uvloop's transports do not subclass asyncio's

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            self._datagram(data, addr)
        except Exception:  # one bad packet (or a failing state rebuild) never stops the loop
            log.exception("dropping a UDP query")

    def _datagram(self, data: bytes, addr: tuple[Any, ...]) -> None:
        # Hot path: a cache hit costs a dict lookup and an ID patch.
        cache, transport = self.cache, self.transport
        assert transport is not None
        if cache.live.names_version != cache.version:  # cluster writes keep every answer
            cache.refresh()
        hit = cache.wire.get((addr[0], data[2:]))
        if hit is not None:
            transport.sendto(data[:2] + hit, addr)
            return
        response = cache.respond(data, addr[0], "udp")
        if response is None:
            return
        cache.remember(addr[0], data, response)
        transport.sendto(response, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)


class _Tcp(asyncio.Protocol):
    """RFC 7766: length-prefixed messages, several per connection, answered in order.

    Between messages the connection may idle for ``idle_timeout``; once a message's first byte
    is in, the whole message must follow within ``header_timeout``. The clock is not restarted
    by every byte, so a client trickling bytes cannot hold a connection for ever.
    """

    def __init__(self, cache: QueryCache, connections: set[asyncio.Transport], limits: Limits,
                 counter: SourceCounter) -> None:
        self.cache, self.connections, self.limits, self.counter = cache, connections, limits, counter
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.host = ""
        self.counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.host = (transport.get_extra_info("peername") or ("",))[0]
        sock = transport.get_extra_info("socket")
        why = self.counter.admit(self.host, sock.fileno() if sock is not None else -1)
        if why is not None:
            log.debug("DNS over TCP refused a connection from %s: %s", self.host, why)
            self.transport.abort()
            return
        self.counted = True
        self.connections.add(self.transport)
        self._arm(self.limits.idle_timeout)

    def _arm(self, seconds: float) -> None:
        assert self.transport is not None
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(seconds, self.transport.close)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        started = not self.buffer
        self.buffer += data
        answered = self._answer()
        if self.transport.is_closing():
            return
        if not self.buffer:
            self._arm(self.limits.idle_timeout)
        elif started or answered:  # a new message began: its deadline starts now, and more bytes do not move it
            self._arm(self.limits.header_timeout)

    def _answer(self) -> int:
        """Answer every whole message in the buffer; how many."""
        assert self.transport is not None
        answered = 0
        while len(self.buffer) >= 2:
            size = struct.unpack_from("!H", self.buffer)[0]
            if len(self.buffer) < 2 + size:
                return answered
            message = bytes(self.buffer[2:2 + size])
            del self.buffer[:2 + size]
            try:
                response = self.cache.respond(message, self.host, "tcp")
            except Exception:
                log.exception("dropping a TCP query")
                response = None
            if response is None:
                # Not a query we can answer: the stream cannot be trusted any more.
                self.transport.close()
                return answered
            answered += 1
            self.transport.write(struct.pack("!H", len(response)) + response)
        return answered

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.connections.discard(self.transport)
        if self.timer is not None:
            self.timer.cancel()
        if self.counted:
            self.counted = False
            self.counter.release(self.host)


def _bind_pair(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket bound to the same port (port 0: a free one for both)."""
    family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    if not is_loopback_address(str(addr[0])):
        # Everything arclink starts listens on loopback only (design.md, "Safety of the network").
        raise ValueError(f"{host} is not a loopback address; the DNS server listens on 127.0.0.1 or ::1 only.")
    for _ in range(50 if port == 0 else 1):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        tcp = socket.socket(family, socket.SOCK_STREAM)
        try:
            udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER_BYTES)
            udp.bind(addr)
            bound = udp.getsockname()
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((bound[0], bound[1]) + tuple(addr[2:]))
            tcp.listen(128)
            udp.setblocking(False)
            tcp.setblocking(False)
            return udp, tcp
        except OSError:
            udp.close()
            tcp.close()
            if port != 0:
                raise
    raise OSError(f"could not find a port free for both UDP and TCP on {host}")


class DnsServer:
    """A running server: ``host``, ``port``, ``close()``; also a context manager."""

    def __init__(self, live: LiveState, host: str, port: int, limits: Limits | None = None,
                 sockets: tuple[socket.socket, socket.socket] | None = None) -> None:
        self.live = live
        self.limits = limits = limits or Limits()
        self.tcp_counter = SourceCounter(limits.max_connections, limits.max_connections_per_source, limits.fd_reserve)
        # ``sockets``: a UDP and a TCP socket the caller bound (the lab binds them inside its own
        # network namespaces, on lab addresses); otherwise loopback only.
        self._udp_sock, self._tcp_sock = sockets if sockets is not None else _bind_pair(host, port)
        self.host, self.port = self._udp_sock.getsockname()[:2]
        self._thread = LoopThread(f"arclink-dns-{self.port}")
        self._closed = False
        self.cache = QueryCache(live)
        self._connections: set[asyncio.Transport] = set()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    def _start(self) -> None:
        self._thread.start(self._listen, self._shut, timeout=START_TIMEOUT)

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        cache, connections, limits, counter = self.cache, self._connections, self.limits, self.tcp_counter
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(cache), sock=self._udp_sock)
        self._tcp = await loop.create_server(lambda: _Tcp(cache, connections, limits, counter), sock=self._tcp_sock)

    async def _shut(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        for conn in list(self._connections):
            conn.close()
        if self._tcp is not None:
            await self._tcp.wait_closed()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._thread.stop()
        else:
            self._udp_sock.close()
            self._tcp_sock.close()

    def __enter__(self) -> DnsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DnsServer udp+tcp {self.host}:{self.port}>"


def start_dns_server(live: LiveState | Index, host: str = "127.0.0.1", port: int = 0,
                     limits: Limits | None = None, *,
                     sockets: tuple[socket.socket, socket.socket] | None = None) -> DnsServer:
    """Start serving ``live`` (a LiveState, or an Index for a fixed topology); returns when listening.

    ``limits``: the TCP connection caps and timeouts (``arclink.limits.Limits``; its defaults when None).
    ``sockets`` (UDP, TCP), already bound and listening, replace ``host``/``port``: ``arclink lab``
    binds them on lab addresses inside its network namespaces.
    """
    if isinstance(live, Index):
        live = LiveState(live)
    if sockets is not None:
        for s in sockets:
            s.setblocking(False)
    server = DnsServer(live, host, port, limits, sockets)
    server._start()
    return server
