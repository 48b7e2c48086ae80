"""The private-endpoint gateway: one TLS listener on loopback for every modelled Arc address.

A connection starts with a PROXY protocol v2 header (modelled source and destination),
then TLS with SNI = the Arc FQDN, then the signed hello of
``arclink.model.wire``. Admission is ``arclink.model.reach.reach()`` on what the live state's
``admission()`` gives (the current version, or after a network write its network ahead of the
whole model's rebuild), so changes made through ARM (association, approval, public network
access) apply to the next connection, and to the next heartbeat of an open one.

Why a signed hello rather than mutual TLS: the connectedCluster holds a bare public
key (``agentPublicKeyCertificate``), not a certificate, and Arc agents prove possession
of that key by signing; with mTLS the agent would need a certificate from some CA the
gateway trusts, which onboarding does not create.

The PROXY header is read byte-exactly before TLS takes the connection over, so no TLS bytes
are lost to a read buffer (``arclink.gateway.accept``).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import functools
import logging
import os
import socket
import ssl
import time
from pathlib import Path
from typing import Any, Callable, cast

from arclink import pki
from arclink.model import schema
from arclink.model.index import ClusterR, Index
from arclink.model.live import LiveState
from arclink.model.reach import REASONS, Reach, reach
from arclink.model.wire import PROTOCOL_REASONS, ProxyHeader, ProxyHeaderError
from arclink.gateway.accept import HeaderProtocol, RealAddresses, read_socket_header
from arclink.gateway.replay import SeenNonces
from arclink.gateway.session import AgentSession
from arclink.gateway.status import Recorder, Tracker
from arclink.gateway.tls import server_context, start_server_tls
from arclink.limits import Limits, SourceCounter
from arclink.loopthread import LoopThread, new_event_loop
from arclink.net import loopback_bind_address

log = logging.getLogger("arclink.gateway")

ConfigSource = Callable[[Index, ClusterR], list]


def _spec(cluster: ClusterR) -> schema.Cluster:
    """The cluster's topology entry (the index types ``spec`` loosely, for every kind of resource)."""
    return cast(schema.Cluster, cluster.spec)


def default_config(index: Index, cluster: ClusterR) -> list:
    """The cluster's extensions as the model knows them (ARM extension resources)."""
    return [{"name": t, "extensionType": t} for t in _spec(cluster).extensions]


def _live_config(live: LiveState) -> ConfigSource:
    """The emulator's extension resources when it offers them (``live.cluster_config``), else the model's."""
    hook = getattr(live, "cluster_config", None)
    if hook is None:
        return default_config
    return lambda index, cluster: hook(cluster.id)


class Gateway:
    """The asyncio server. ``start_gateway`` runs one in a thread of its own."""

    def __init__(self, live: LiveState, state_dir: str | Path, *, record: Recorder | None = None,
                 config_for: ConfigSource | None = None, touch_interval: float = 30.0,
                 offline_after: float | None = None, max_connections: int = 50_000, header_timeout: float = 5.0,
                 handshake_timeout: float = 10.0, idle_timeout: float = 120.0, events_max: int = 5000,
                 max_connections_per_source: int | None = None, fd_reserve: int = Limits.fd_reserve,
                 real_source: bool = False):
        self.live = live
        # The lab's listeners sit on the modelled addresses themselves: a connection that starts
        # with TLS instead of a PROXY header is admitted by its real source and destination.
        self.real_source = real_source
        if offline_after is None:  # the emulator's setting; tests and demos shorten it
            offline_after = float(os.environ.get("ARCLINK_OFFLINE_AFTER", "30") or 30)
        self.ctx = server_context(state_dir)
        self.ctx.sni_callback = _remember_sni
        self.tracker = Tracker(record or getattr(live, "record_connectivity", None), touch_interval, offline_after)
        self.config_for = config_for or _live_config(live)
        self.max_connections = max_connections
        # counted by the socket's real peer (all agents of one machine share 127.0.0.1), not the PROXY source
        self.counted = SourceCounter(max_connections, max_connections_per_source or max_connections, fd_reserve)
        self.header_timeout, self.handshake_timeout, self.idle_timeout = header_timeout, handshake_timeout, idle_timeout
        self.events: collections.deque = collections.deque(maxlen=events_max)
        self.counters: collections.Counter[str] = collections.Counter()
        self._conns: set[asyncio.Task] = set()  # connections between accept and their session
        self.sessions: set[AgentSession] = set()
        self.seen_nonces = SeenNonces()
        self._admit_version = -1
        self._admit_index: Index | None = None
        self._admit_cache: dict[tuple, Reach] = {}
        self._public_keys: dict[bytes, Any] = {}  # agents' DER keys, loaded once (a third of a signature check)
        self._sock: socket.socket | None = None
        self._server: asyncio.AbstractServer | None = None
        self.reading_headers: set[HeaderProtocol] = set()  # connections not yet handed to a session
        self._tasks: list[asyncio.Task] = []
        self.port = 0

    # lifecycle ---------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None) -> int:
        """Listen on ``host``:``port``, or on ``sock`` (bound and listening; the lab's, on a lab address)."""
        if sock is None:
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(4096)
        sock.setblocking(False)
        self._sock, self.port = sock, sock.getsockname()[1]
        self._tasks = [asyncio.create_task(self._sweep_loop())]
        if self.real_source:
            self._tasks.append(asyncio.create_task(self._accept_loop()))
        else:  # the loop accepts; HeaderProtocol reads the PROXY header, then header_read takes over
            self._server = await asyncio.get_running_loop().create_server(lambda: HeaderProtocol(self), sock=sock)
        return self.port

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self._server is not None:
            self._server.close()  # and with it the listening socket
        elif self._sock is not None:
            self._sock.close()
        for header_protocol in list(self.reading_headers):
            header_protocol.abort()
        for session in list(self.sessions):
            session.abort()
        for t in list(self._conns):
            t.cancel()
        await asyncio.gather(*self._tasks, *self._conns, return_exceptions=True)

    # HeaderProtocol's side (arclink.gateway.accept.HeaderSink) --------------------------------
    def admit_connection(self, peer: str, fileno: int) -> bool:
        """Count a new connection, or refuse it for overload."""
        if self.counted.admit(peer, fileno) is None:
            self.counters["connections"] += 1
            return True
        self.counters["overloaded"] += 1
        self.event(None, None, None, None, "Overloaded", PROTOCOL_REASONS["Overloaded"])
        return False

    def release_connection(self, peer: str) -> None:
        self.counted.release(peer)

    def bad_header(self, reason: str) -> None:
        self.counters["bad_header"] += 1
        self.event(None, None, None, None, "BadProxyHeader", reason, level=logging.DEBUG)

    def header_read(self, transport: asyncio.Transport, header: ProxyHeader, release: Callable[[], None]) -> None:
        assert header.src is not None and header.dst is not None  # HeaderProtocol closes LOCAL connections
        session = AgentSession(self, header.src, header.dst, release, transport)
        start_server_tls(transport, session, self.ctx, self.handshake_timeout,
                         functools.partial(self._tls_settled, session, header))

    def _tls_settled(self, session: AgentSession, hdr: ProxyHeader | RealAddresses, exc: BaseException | None) -> None:
        if not session.made:  # failed, or closed during the handshake: nothing will call connection_lost
            session.connection_lost(None)
        if exc is not None and not isinstance(exc, asyncio.CancelledError):
            self._bad_tls(hdr, exc)

    def _bad_tls(self, hdr: ProxyHeader | RealAddresses, exc: BaseException) -> None:
        self.counters["bad_tls"] += 1
        self.event(None, hdr.src, hdr.dst, None, "BadHandshake", f"TLS handshake failed: {exc}", level=logging.DEBUG)

    # the lab's path: sockets accepted in Python, so that the first byte can be peeked -----------
    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        listener = self._sock
        assert listener is not None  # start() binds it before this task exists
        while True:
            try:
                conn, _ = await loop.sock_accept(listener)
            except OSError as exc:  # EMFILE and friends: back off rather than spin
                log.warning("accept failed: %s", exc)
                await asyncio.sleep(0.05)
                continue
            peer = _peer(conn)
            if not self.admit_connection(peer, conn.fileno()):
                conn.close()
                continue
            task = asyncio.create_task(self._serve(conn, functools.partial(self.counted.release, peer)))
            self._conns.add(task)
            task.add_done_callback(self._conns.discard)

    async def _sweep_loop(self) -> None:
        period = max(0.05, min(1.0, self.tracker.offline_after / 4))
        while True:
            await asyncio.sleep(period)
            for cid in self.tracker.sweep():
                st = self.tracker.clusters[cid]
                self.event(cid, None, None, None, st.code, st.reason)

    async def _serve(self, conn: socket.socket, release: Callable[[], None]) -> None:
        """One connection of the lab's path, up to its session (which releases it when it ends)."""
        loop = asyncio.get_running_loop()
        conn.setblocking(False)
        try:
            async with asyncio.timeout(self.header_timeout):
                hdr = await read_socket_header(loop, conn, self.real_source)
        except (TimeoutError, ProxyHeaderError, ConnectionError, OSError) as exc:
            reason = "no PROXY header in time" if isinstance(exc, TimeoutError) else str(exc) or "connection closed"
            self.bad_header(reason)
            conn.close()
            release()
            return
        except asyncio.CancelledError:
            conn.close()
            release()
            raise
        if hdr.local or hdr.src is None or hdr.dst is None:  # LOCAL: a health check, no addresses
            conn.close()
            release()
            return
        session = AgentSession(self, hdr.src, hdr.dst, release)
        try:
            await loop.connect_accepted_socket(lambda: session, sock=conn, ssl=self.ctx,
                                               ssl_handshake_timeout=self.handshake_timeout)
        except (OSError, TimeoutError, ConnectionError, asyncio.CancelledError) as exc:
            conn.close()
            self._tls_settled(session, hdr, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise

    # decisions ---------------------------------------------------------------------------
    def public_key(self, der: bytes) -> Any:
        pub = self._public_keys.get(der)
        if pub is None:
            pub = pki.load_agent_public_key(der)
            if pub is not None:
                if len(self._public_keys) >= 100_000:  # keys anyone may present: bounded, start afresh
                    self._public_keys.clear()
                self._public_keys[der] = pub
        return pub

    def admit(self, version: int, index: Index, cluster: ClusterR | None, dst: str, sni: str | None,
               src: str) -> Reach:
        # one cache per version and index: a version's admissions may come from a names-only index
        # ahead of its whole model (``LiveState.admission``)
        if version != self._admit_version or index is not self._admit_index or len(self._admit_cache) > 200_000:
            self._admit_cache, self._admit_version, self._admit_index = {}, version, index
        key = (cluster.id if cluster else None, dst, sni, src)
        hit = self._admit_cache.get(key)
        if hit is None:
            hit = self._admit_cache[key] = reach(index, cluster, dst, sni, src)
        return hit

    def event(self, cid: str | None, src: str | None, dst: str | None, sni: str | None, code: str, reason: str,
              level: int = logging.DEBUG) -> None:
        # kept as a tuple and the time as a number: read rarely, recorded for every connection
        self.events.append((time.time(), cid, src, dst, sni, code, reason))
        if log.isEnabledFor(level):
            log.log(level, "%s %s %s->%s (%s): %s", code, cid or "-", src, dst, sni, reason)

    def event_dicts(self) -> list[dict]:
        """The recent events, oldest first, as ``GatewayHandle.events`` gives them."""
        return [{"time": dt.datetime.fromtimestamp(when, dt.timezone.utc).isoformat(), "cluster": cid, "src": src,
                 "dst": dst, "fqdn": sni, "code": code, "reason": reason}
                for when, cid, src, dst, sni, code, reason in list(self.events)]


def _peer(conn: socket.socket) -> str:
    try:
        return str(conn.getpeername()[0])
    except OSError:  # already reset by the client
        return ""


def _remember_sni(sslobj: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> None:
    sslobj._arclink_sni = server_name.lower() if server_name else None  # type: ignore[attr-defined]


# --- running in a thread -----------------------------------------------------------------------


class GatewayHandle:
    """What ``start_gateway`` returns: ``port``, ``events``, ``status(cluster_id)``, ``close()``."""

    def __init__(self, gateway: Gateway, thread: LoopThread, host: str) -> None:
        self.gateway, self._thread, self.host = gateway, thread, host

    @property
    def port(self) -> int:
        return self.gateway.port

    @property
    def events(self) -> list[dict]:
        return self.gateway.event_dicts()

    @property
    def counters(self) -> dict:
        return dict(self.gateway.counters)

    def status(self, cluster_id: str) -> dict | None:
        """The gateway's view of one cluster (connectivityStatus, code, reason, lastConnectivityTime)."""
        return self._thread.call(self._status(cluster_id), 5)

    async def _status(self, cluster_id: str) -> dict | None:
        for cid, st in self.gateway.tracker.clusters.items():
            if cid.lower() == cluster_id.lower():
                return st.to_dict()
        return None

    def close(self) -> None:
        self._thread.stop()

    def __enter__(self) -> GatewayHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_gateway(live: LiveState, state_dir: str | Path, host: str = "127.0.0.1", port: int = 0,
                  limits: Limits | None = None, sock: socket.socket | None = None, **options: Any) -> GatewayHandle:
    """Start the gateway in a thread; options are ``Gateway``'s (record, config_for, offline_after...).

    ``limits`` (``arclink.limits.Limits``) sets the connection caps and timeouts the options do not.
    ``sock``, bound and listening, replaces ``host``/``port``: ``arclink lab`` binds it on a lab
    address inside one of its network namespaces.
    """
    if limits is not None:
        for option, value in (("max_connections", limits.gateway_max_connections),
                              ("max_connections_per_source", limits.gateway_max_connections_per_source),
                              ("header_timeout", limits.handshake_timeout), ("handshake_timeout", limits.handshake_timeout),
                              ("idle_timeout", limits.gateway_idle_timeout), ("fd_reserve", limits.fd_reserve)):
            options.setdefault(option, value)
    bind_host = loopback_bind_address(host) if sock is None else sock.getsockname()[0]
    if bind_host is None:  # design.md, "Safety of the network"
        raise ValueError(f"{host} is not a loopback address; the gateway listens on loopback only")
    thread = LoopThread("arclink-gateway")
    gw = Gateway(live, state_dir, **options)

    async def listen() -> None:
        await gw.start(bind_host, port, sock)

    thread.start(listen, gw.stop, timeout=30)
    return GatewayHandle(gw, thread, bind_host)


__all__ = ["Gateway", "GatewayHandle", "REASONS", "default_config", "new_event_loop", "start_gateway"]
