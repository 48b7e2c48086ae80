"""The private-endpoint gateway: one TLS listener on loopback for every modelled Arc address.

A connection starts with a PROXY protocol v2 header (modelled source and destination),
then TLS with SNI = the Arc FQDN, then the challenge/hello handshake of
``arclink.model.wire``. Admission is ``arclink.model.reach.reach()`` on the live state's
current snapshot, so changes made through ARM (association, approval, public network
access) apply to the next connection, and to the next heartbeat of an open one.

Why a signed challenge rather than mutual TLS: the connectedCluster holds a bare public
key (``agentPublicKeyCertificate``), not a certificate, and Arc agents prove possession
of that key by signing; with mTLS the agent would need a certificate from some CA the
gateway trusts, which onboarding does not create.

The PROXY header is read byte-exactly before TLS takes the connection over, so no TLS bytes
are lost to a read buffer (``arclink.gateway.accept``).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import datetime as dt
import functools
import logging
import os
import socket
import ssl
from pathlib import Path
from typing import Any, Callable, cast

import msgspec

from arclink import pki
from arclink.model import catalogue as cat
from arclink.model import schema
from arclink.model.index import ClusterR, Index
from arclink.model.live import LiveState
from arclink.model.reach import REASONS, Reach, reach
from arclink.model.wire import MAX_MESSAGE, PROTOCOL_REASONS, ProxyHeader, ProxyHeaderError, auth_payload
from arclink.gateway.accept import HeaderProtocol, RealAddresses, read_socket_header
from arclink.gateway.hello import MessageError, parse_hello, parse_message, require_sni, too_large
from arclink.gateway.status import Recorder, Tracker
from arclink.gateway.tls import server_context
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


def discovery_endpoints(location: str) -> dict[str, str]:
    """What the discovery name tells an agent: its regional endpoints, from the catalogue's records."""
    return cat.regional_endpoints(location)


def _live_config(live: LiveState) -> ConfigSource:
    """The emulator's extension resources when it offers them (``live.cluster_config``), else the model's."""
    hook = getattr(live, "cluster_config", None)
    if hook is None:
        return default_config
    return lambda index, cluster: hook(cluster.id)


class _Refused(Exception):
    def __init__(self, code: str, reason: str, path: str | None = None):
        super().__init__(reason)
        self.code, self.reason, self.path = code, reason, path


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
        self._conns: set[asyncio.Task] = set()
        self._admit_version = -1
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
        self._event(None, None, None, None, "Overloaded", PROTOCOL_REASONS["Overloaded"])
        return False

    def release_connection(self, peer: str) -> None:
        self.counted.release(peer)

    def bad_header(self, reason: str) -> None:
        self.counters["bad_header"] += 1
        self._event(None, None, None, None, "BadProxyHeader", reason, level=logging.DEBUG)

    def header_read(self, transport: asyncio.Transport, header: ProxyHeader, release: Callable[[], None]) -> None:
        task = asyncio.create_task(self._serve_transport(transport, header))
        self._conns.add(task)
        task.add_done_callback(functools.partial(self._finished, release))

    def _finished(self, release: Callable[[], None], task: asyncio.Task) -> None:
        self._conns.discard(task)
        release()

    async def _serve_transport(self, transport: asyncio.Transport, hdr: ProxyHeader) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_MESSAGE)
        protocol = asyncio.StreamReaderProtocol(reader)
        try:
            tls = await loop.start_tls(transport, protocol, self.ctx, server_side=True,
                                       ssl_handshake_timeout=self.handshake_timeout)
        except (OSError, TimeoutError, ConnectionError, asyncio.CancelledError) as exc:
            transport.abort()
            if isinstance(exc, asyncio.CancelledError):
                raise
            self._bad_tls(hdr, exc)
            return
        assert tls is not None  # start_tls returns the transport or raises
        protocol.connection_made(tls)  # start_tls leaves that to the caller
        await self._talk(asyncio.StreamWriter(tls, protocol, reader, loop), reader, hdr)

    def _bad_tls(self, hdr: ProxyHeader | RealAddresses, exc: BaseException) -> None:
        self.counters["bad_tls"] += 1
        self._event(None, hdr.src, hdr.dst, None, "BadHandshake", f"TLS handshake failed: {exc}", level=logging.DEBUG)

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
            task = asyncio.create_task(self._serve(conn))
            self._conns.add(task)
            task.add_done_callback(functools.partial(self._done, peer))

    def _done(self, peer: str, task: asyncio.Task) -> None:
        self._conns.discard(task)
        self.counted.release(peer)

    async def _sweep_loop(self) -> None:
        period = max(0.05, min(1.0, self.tracker.offline_after / 4))
        while True:
            await asyncio.sleep(period)
            for cid in self.tracker.sweep():
                st = self.tracker.clusters[cid]
                self._event(cid, None, None, None, st.code, st.reason)

    # one connection ----------------------------------------------------------------------
    async def _serve(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        conn.setblocking(False)
        try:
            async with asyncio.timeout(self.header_timeout):
                hdr = await read_socket_header(loop, conn, self.real_source)
        except (TimeoutError, ProxyHeaderError, ConnectionError, OSError) as exc:
            self.counters["bad_header"] += 1
            reason = "no PROXY header in time" if isinstance(exc, TimeoutError) else str(exc) or "connection closed"
            self._event(None, None, None, None, "BadProxyHeader", reason, level=logging.DEBUG)
            conn.close()
            return
        if hdr.local or hdr.src is None or hdr.dst is None:  # LOCAL: a health check, no addresses
            conn.close()
            return
        reader = asyncio.StreamReader(limit=MAX_MESSAGE)
        protocol = asyncio.StreamReaderProtocol(reader)
        try:
            transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock=conn, ssl=self.ctx,
                                                              ssl_handshake_timeout=self.handshake_timeout)
        except (OSError, TimeoutError, ConnectionError, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):
                conn.close()
                raise
            self._bad_tls(hdr, exc)
            conn.close()
            return
        await self._talk(asyncio.StreamWriter(transport, protocol, reader, loop), reader, hdr)

    async def _talk(self, writer: asyncio.StreamWriter, reader: asyncio.StreamReader,
                    hdr: ProxyHeader | RealAddresses) -> None:
        """The session inside TLS, then the close."""
        assert hdr.src is not None and hdr.dst is not None  # a LOCAL header never gets this far
        sslobj = writer.get_extra_info("ssl_object")
        sni = getattr(sslobj, "_arclink_sni", None)
        try:
            await self._session(reader, writer, hdr.src, hdr.dst, sni)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            pass
        finally:
            writer.close()
            try:
                async with asyncio.timeout(1.0):  # no task per connection, as wait_for would make
                    await writer.wait_closed()
            except (Exception, asyncio.CancelledError):
                pass

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, src: str, dst: str,
                       sni: str | None) -> None:
        nonce = os.urandom(32)
        await _send(writer, {"type": "challenge", "nonce": base64.b64encode(nonce).decode()})
        cluster = None
        try:
            try:
                hello = await _read(reader, self.handshake_timeout)
            except TimeoutError:
                raise _Refused("BadHandshake", f"{PROTOCOL_REASONS['BadHandshake']} (no hello in time)") from None
            try:
                der, sig = parse_hello(hello)
                sni = require_sni(sni)
            except MessageError as exc:
                raise _Refused("BadHandshake", exc.reason) from None
            version, index = self.live.snapshot()
            pub = self._public_key(der)
            proved = pub is not None and pki.verify_signature(pub, sig, auth_payload(nonce, sni or ""))
            cluster = self._cluster_for_key(version, index, der) if proved else None
            r = self._admit(version, index, cluster, dst, sni, src)
            if not proved and r.code == "ClusterNotRegistered":
                raise _Refused(r.code, f"{r.reason} The agent's signature does not match the public key it "
                                       "presented, so it does not hold a cluster's onboarding key.")
            if not r.admitted or cluster is None:
                raise _Refused(r.code, r.reason, r.path)
            cid = cluster.id
            self.counters["admitted"] += 1
            self._event(cid, src, dst, sni, "Admitted", f"{r.path} path" + (f" via '{r.endpoint}'" if r.endpoint else ""))
            await _send(writer, {"type": "welcome", "cluster": cid, "code": "Admitted", "path": r.path,
                                 "endpoint": r.endpoint, "scope": r.scope, "warnings": r.warnings})
            while True:
                msg = await _read(reader, self.idle_timeout)
                if msg is None:
                    return
                version, index = self.live.snapshot()
                cluster = self._cluster_for_key(version, index, der)
                r = self._admit(version, index, cluster, dst, sni, src)
                if not r.admitted or cluster is None:
                    raise _Refused(r.code, r.reason, r.path)
                op = msg.get("op") if isinstance(msg, dict) else None
                seq = msg.get("seq") if isinstance(msg, dict) else None
                if op == "heartbeat":
                    st = self.tracker.heartbeat(cid)
                    self.counters["heartbeats"] += 1
                    await _send(writer, {"type": "ack", "seq": seq, "connectivityStatus": st.status,
                                         "lastConnectivityTime": _isoformat(st.last_connectivity)})
                elif op == "config":
                    zone = cat.arc_zone_for(sni or "")
                    if zone is None or zone.key != "dp":
                        await _send(writer, {"type": "error", "seq": seq, "code": "WrongEndpoint",
                                             "reason": "Configuration is served by "
                                                       f"{discovery_endpoints(cluster.location)['config']}."})
                        continue
                    self.tracker.heartbeat(cid)
                    await _send(writer, {"type": "config", "seq": seq, "cluster": cid,
                                         "extensions": self.config_for(index, cluster)})
                elif op == "discover":
                    await _send(writer, {"type": "discovery", "seq": seq, "location": cluster.location,
                                         "endpoints": discovery_endpoints(cluster.location)})
                else:
                    await _send(writer, {"type": "error", "seq": seq, "code": "UnknownOperation",
                                         "reason": "Send op heartbeat, config or discover."})
        except _Refused as ref:
            self.counters["refused"] += 1
            refused_id = cluster.id if cluster is not None else None
            if refused_id:
                self.tracker.refused(refused_id, ref.code, ref.reason)
            self._event(refused_id, src, dst, sni, ref.code, ref.reason, level=logging.INFO)
            await _send(writer, {"type": "refused", "code": ref.code, "reason": ref.reason,
                                 "cluster": refused_id, "path": ref.path})

    # decisions ---------------------------------------------------------------------------
    def _cluster_for_key(self, version: int, index: Index, der: bytes) -> ClusterR | None:
        # the index's table: a cluster write carries it to the next version instead of reading every cluster
        return index.cluster_for_agent_key(der)

    def _public_key(self, der: bytes) -> Any:
        pub = self._public_keys.get(der)
        if pub is None:
            pub = pki.load_agent_public_key(der)
            if pub is not None:
                if len(self._public_keys) >= 100_000:  # keys anyone may present: bounded, start afresh
                    self._public_keys.clear()
                self._public_keys[der] = pub
        return pub

    def _admit(self, version: int, index: Index, cluster: ClusterR | None, dst: str, sni: str | None,
               src: str) -> Reach:
        if version != self._admit_version or len(self._admit_cache) > 200_000:
            self._admit_cache, self._admit_version = {}, version
        key = (cluster.id if cluster else None, dst, sni, src)
        hit = self._admit_cache.get(key)
        if hit is None:
            hit = self._admit_cache[key] = reach(index, cluster, dst, sni, src)
        return hit

    def _event(self, cid: str | None, src: str | None, dst: str | None, sni: str | None, code: str, reason: str,
               level: int = logging.DEBUG) -> None:
        ev = {"time": dt.datetime.now(dt.timezone.utc).isoformat(), "cluster": cid, "src": src, "dst": dst,
              "fqdn": sni, "code": code, "reason": reason}
        self.events.append(ev)
        if log.isEnabledFor(level):
            log.log(level, "%s %s %s->%s (%s): %s", code, cid or "-", src, dst, sni, reason)


def _peer(conn: socket.socket) -> str:
    try:
        return str(conn.getpeername()[0])
    except OSError:  # already reset by the client
        return ""


def _isoformat(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _remember_sni(sslobj: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> None:
    sslobj._arclink_sni = server_name.lower() if server_name else None  # type: ignore[attr-defined]


async def _send(writer: asyncio.StreamWriter, msg: dict) -> None:
    writer.write(msgspec.json.encode(msg) + b"\n")
    await writer.drain()


async def _read(reader: asyncio.StreamReader, timeout: float) -> Any:
    """One JSON line; None at a clean end of stream."""
    try:
        async with asyncio.timeout(timeout):  # no task per line, as wait_for would make
            line = await reader.readline()
    except (asyncio.LimitOverrunError, ValueError):  # readline reports a line over its limit as ValueError
        raise _Refused("BadHandshake", too_large().reason) from None
    if not line:
        return None
    try:
        return parse_message(line)
    except MessageError as exc:
        raise _Refused("BadHandshake", exc.reason) from None


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
        return list(self.gateway.events)

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
