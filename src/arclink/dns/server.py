"""The DNS server: UDP and TCP on one loopback port, in its own thread and asyncio loop.

``start_dns_server(live)`` answers every query from ``live.snapshot()``: the ARM emulator
publishes a new index after each write and the next query sees it. Two caches, both
dropped whenever the live version changes and both bounded:
- resolutions by (view key, name, type), shared by every client of a view;
- whole UDP responses by (client address, query bytes after the ID): a hit only patches
  the ID, which is what makes the server fast enough to compare with dnsmasq.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading

from arclink.dns.views import is_loopback, source_view
from arclink.dns.wire import answer
from arclink.model.index import Index
from arclink.model.live import LiveState

__all__ = ["DnsServer", "answer", "start_dns_server"]

log = logging.getLogger("arclink.dns")

WIRE_CACHE_ENTRIES = 50_000
RESOLUTION_CACHE_ENTRIES = 20_000
TCP_IDLE_SECONDS = 10.0
UDP_BUFFER_BYTES = 4 << 20


class _Engine:
    """Per-loop state: the version the caches belong to, and the caches."""

    def __init__(self, live: LiveState):
        self.live = live
        self.version = -1
        self.index: Index | None = None
        self.wire: dict = {}
        self.resolutions: dict = {}
        self.peer_views: dict = {}
        self.connections: set = set()

    def refresh(self) -> Index:
        version, index = self.live.snapshot()
        if version != self.version or index is not self.index:
            self.version, self.index = version, index
            self.wire.clear()
            self.resolutions.clear()
            self.peer_views.clear()
        if len(self.resolutions) > RESOLUTION_CACHE_ENTRIES:
            self.resolutions.clear()
        return index

    def respond(self, data: bytes, host: str, transport: str) -> bytes | None:
        index = self.refresh()
        if is_loopback(host):
            return answer(index, None, data, source=host, transport=transport, cache=self.resolutions)
        view = self.peer_views.get(host)
        if view is None:
            if len(self.peer_views) > WIRE_CACHE_ENTRIES:
                self.peer_views.clear()
            view = self.peer_views[host] = source_view(index, host)
        return answer(index, view, data, source=host, transport=transport, cache=self.resolutions)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, engine: _Engine):
        self.engine = engine
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        try:
            self._datagram(data, addr)
        except Exception:  # one bad packet (or a failing state rebuild) never stops the loop
            log.exception("dropping a UDP query")

    def _datagram(self, data, addr):
        # Hot path: a cache hit costs a dict lookup and an ID patch.
        engine = self.engine
        if engine.live.version != engine.version:
            engine.refresh()
        key = (addr[0], data[2:])
        hit = engine.wire.get(key)
        if hit is not None:
            self.transport.sendto(data[:2] + hit, addr)
            return
        response = engine.respond(data, addr[0], "udp")
        if response is None:
            return
        if len(engine.wire) >= WIRE_CACHE_ENTRIES:
            del engine.wire[next(iter(engine.wire))]  # oldest first: memory stays bounded
        engine.wire[key] = response[2:]
        self.transport.sendto(response, addr)

    def error_received(self, exc):
        log.debug("UDP error: %s", exc)


class _Tcp(asyncio.Protocol):
    """RFC 7766: length-prefixed messages, several per connection, answered in order."""

    def __init__(self, engine: _Engine):
        self.engine = engine
        self.buffer = bytearray()
        self.transport = None
        self.idle = None

    def connection_made(self, transport):
        self.transport = transport
        self.engine.connections.add(transport)
        self.host = (transport.get_extra_info("peername") or ("",))[0]
        self._arm_idle()

    def _arm_idle(self):
        if self.idle is not None:
            self.idle.cancel()
        self.idle = asyncio.get_running_loop().call_later(TCP_IDLE_SECONDS, self.transport.close)

    def data_received(self, data):
        self.buffer += data
        self._arm_idle()
        while len(self.buffer) >= 2:
            size = struct.unpack_from("!H", self.buffer)[0]
            if len(self.buffer) < 2 + size:
                return
            message = bytes(self.buffer[2:2 + size])
            del self.buffer[:2 + size]
            try:
                response = self.engine.respond(message, self.host, "tcp")
            except Exception:
                log.exception("dropping a TCP query")
                response = None
            if response is None:
                # Not a query we can answer: the stream cannot be trusted any more.
                self.transport.close()
                return
            self.transport.write(struct.pack("!H", len(response)) + response)

    def connection_lost(self, exc):
        self.engine.connections.discard(self.transport)
        if self.idle is not None:
            self.idle.cancel()


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def _bind_pair(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket bound to the same port (port 0: a free one for both)."""
    family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    if not is_loopback(addr[0]):
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

    def __init__(self, live: LiveState, host: str, port: int, sockets: tuple[socket.socket, socket.socket] | None = None):
        self.live = live
        # ``sockets``: a UDP and a TCP socket the caller bound (the lab binds them inside its own
        # network namespaces, on lab addresses); otherwise loopback only.
        self._udp_sock, self._tcp_sock = sockets if sockets is not None else _bind_pair(host, port)
        self.host, self.port = self._udp_sock.getsockname()[:2]
        self._loop = _new_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"arclink-dns-{self.port}", daemon=True)
        self._closed = False
        self.engine = _Engine(live)

    def _start(self):
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def _run(self):
        loop = self._loop
        asyncio.set_event_loop(loop)
        engine = self.engine
        try:
            self._udp, _ = loop.run_until_complete(
                loop.create_datagram_endpoint(lambda: _Udp(engine), sock=self._udp_sock))
            self._tcp = loop.run_until_complete(loop.create_server(lambda: _Tcp(engine), sock=self._tcp_sock))
        except BaseException as exc:  # reported to the thread that started us
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._udp.close()
            self._tcp.close()
            for conn in list(engine.connections):
                conn.close()
            loop.run_until_complete(self._tcp.wait_closed())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        else:
            self._udp_sock.close()
            self._tcp_sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<DnsServer udp+tcp {self.host}:{self.port}>"


def start_dns_server(live: LiveState | Index, host: str = "127.0.0.1", port: int = 0, *,
                     sockets: tuple[socket.socket, socket.socket] | None = None) -> DnsServer:
    """Start serving ``live`` (a LiveState, or an Index for a fixed topology); returns when listening.

    ``sockets`` (UDP, TCP), already bound and listening, replace ``host``/``port``: ``arclink lab``
    binds them on lab addresses inside its network namespaces.
    """
    if isinstance(live, Index):
        live = LiveState(live)
    if sockets is not None:
        for s in sockets:
            s.setblocking(False)
    server = DnsServer(live, host, port, sockets)
    server._start()
    return server
