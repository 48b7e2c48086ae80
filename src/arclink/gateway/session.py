"""One agent's session inside TLS, as an asyncio protocol: hello, welcome or refused, then heartbeats.

The session is a plain ``asyncio.Protocol`` that the TLS transport calls with each decrypted
chunk, rather than a coroutine reading a stream: an admission is a handful of callbacks with no
task, no stream reader or writer and no timeout context per line, which is most of what the
gateway spent in Python beside the TLS handshake itself (docs/gateway.md, "Performance").

What the gateway decides (admission, counters, events, the connectivity tracker) stays in
``arclink.gateway.server``; it reaches the session through ``SessionHost``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Protocol as TypingProtocol, cast

import msgspec

from arclink import pki
from arclink.model import catalogue as cat
from arclink.model.index import ClusterR, Index
from arclink.model.live import LiveState
from arclink.model.reach import Reach
from arclink.model.wire import MAX_MESSAGE, PROTOCOL_REASONS, auth_payload
from arclink.gateway.hello import MessageError, parse_hello, parse_message, require_sni, stale, too_large
from arclink.gateway.replay import SeenNonces
from arclink.gateway.status import Tracker


class SessionHost(TypingProtocol):
    """What a session needs from the gateway."""

    live: LiveState
    tracker: Tracker
    counters: Any  # collections.Counter[str]
    handshake_timeout: float
    idle_timeout: float
    sessions: set[AgentSession]  # open sessions, aborted when the gateway stops
    seen_nonces: SeenNonces

    def public_key(self, der: bytes) -> Any: ...

    def admit(self, version: int, index: Index, cluster: ClusterR | None, dst: str, sni: str | None,
              src: str) -> Reach: ...

    def config_for(self, index: Index, cluster: ClusterR) -> list: ...

    def event(self, cid: str | None, src: str | None, dst: str | None, sni: str | None, code: str, reason: str,
              level: int = logging.DEBUG) -> None: ...


def discovery_endpoints(location: str) -> dict[str, str]:
    """What the discovery name tells an agent: its regional endpoints, from the catalogue's records."""
    return cat.regional_endpoints(location)


class Refused(Exception):
    def __init__(self, code: str, reason: str, path: str | None = None):
        super().__init__(reason)
        self.code, self.reason, self.path = code, reason, path


class AgentSession(asyncio.Protocol):
    """The hello and what follows it, for one connection whose TLS is established.

    ``release`` is called once, when the connection is gone (the gateway's per-source count).
    ``raw`` is the connection under TLS, aborted should the gateway stop during the handshake.
    """

    def __init__(self, host: SessionHost, src: str, dst: str, release: Callable[[], None],
                 raw: asyncio.Transport | None = None) -> None:
        self.host, self.src, self.dst = host, src, dst
        self._release: Callable[[], None] | None = release
        self.transport: asyncio.Transport | None = raw
        self.made = False
        host.sessions.add(self)
        self.sni: str | None = None
        self.der = b""
        self.cluster: ClusterR | None = None
        self.admitted = False
        self.closing = False
        self.buffer = b""
        self.timer: asyncio.TimerHandle | None = None

    # asyncio's side -------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.closing:  # lost before the gateway could hand it over
            return
        self.transport, self.made = cast(asyncio.Transport, transport), True
        sslobj = transport.get_extra_info("ssl_object")
        self.sni = getattr(sslobj, "_arclink_sni", None)
        self._arm(self.host.handshake_timeout, self._no_hello)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        start = 0
        while not self.closing:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            if end - start > MAX_MESSAGE:  # what a stream reader's limit would refuse
                self._refuse(Refused("BadHandshake", too_large().reason))
                return
            line, start = buffer[start:end + 1], end + 1
            self._message(line)
        self.buffer = buffer[start:] if start else buffer
        if len(self.buffer) > MAX_MESSAGE and not self.closing:
            self._refuse(Refused("BadHandshake", too_large().reason))

    def eof_received(self) -> bool:
        if not self.closing:
            if self.admitted:
                self.close()
            else:  # as a hello that never came
                self._hello(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self._disarm()
        self.host.sessions.discard(self)
        release, self._release = self._release, None
        if release is not None:
            release()

    def pause_writing(self) -> None:  # an agent that does not read its answers: stop reading its questions
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.closing:
            self.transport.resume_reading()

    # the protocol ---------------------------------------------------------------------------
    def _message(self, line: bytes) -> None:
        try:
            try:
                msg = parse_message(line)
            except MessageError as exc:
                raise Refused("BadHandshake", exc.reason) from None
            if self.admitted:
                self._request(msg)
            else:
                self._hello(msg)
        except Refused as ref:
            self._refuse(ref)

    def _hello(self, hello: Any) -> None:
        host, src, dst = self.host, self.src, self.dst
        try:
            try:
                der, sig, nonce, issued = parse_hello(hello)
                sni = require_sni(self.sni)
                too_old = stale(issued, time.time())
                if too_old is not None:
                    raise too_old
            except MessageError as exc:
                raise Refused("BadHandshake", exc.reason) from None
            version, index, cluster = host.live.admission(der)
            pub = host.public_key(der)
            proved = pub is not None and pki.verify_signature(pub, sig, auth_payload(nonce, issued, sni))
            if not proved:
                cluster = None
            self.cluster = cluster
            r = host.admit(version, index, cluster, dst, sni, src)
            if not proved and r.code == "ClusterNotRegistered":
                raise Refused(r.code, f"{r.reason} The agent's signature does not match the public key it "
                                      "presented, so it does not hold a cluster's onboarding key.")
            if not r.admitted or cluster is None:
                raise Refused(r.code, r.reason, r.path)
            if host.seen_nonces.full():
                raise Refused("Overloaded", f"{PROTOCOL_REASONS['Overloaded']} (it remembers as many admitted "
                                            "hellos as it can; try again in a few minutes)")
            if not host.seen_nonces.first_use(nonce):
                raise Refused("BadHandshake", f"{PROTOCOL_REASONS['BadHandshake']} (this hello's nonce was "
                                              "admitted before: sign a fresh nonce for every connection)")
        except Refused as ref:
            self._refuse(ref)
            return
        self.der, self.admitted = der, True
        host.counters["admitted"] += 1
        host.event(cluster.id, src, dst, sni, "Admitted", f"{r.path} path" + (f" via '{r.endpoint}'" if r.endpoint else ""))
        self.send({"type": "welcome", "cluster": cluster.id, "code": "Admitted", "path": r.path,
                   "endpoint": r.endpoint, "scope": r.scope, "warnings": r.warnings})
        self._arm(host.idle_timeout, self.close)

    def _request(self, msg: Any) -> None:
        host = self.host
        self._arm(host.idle_timeout, self.close)
        version, index, cluster = host.live.admission(self.der)
        self.cluster = cluster
        r = host.admit(version, index, cluster, self.dst, self.sni, self.src)
        if not r.admitted or cluster is None:
            raise Refused(r.code, r.reason, r.path)
        cid = cluster.id
        op = msg.get("op") if isinstance(msg, dict) else None
        seq = msg.get("seq") if isinstance(msg, dict) else None
        if op == "heartbeat":
            st = host.tracker.heartbeat(cid)
            host.counters["heartbeats"] += 1
            last = st.last_connectivity
            self.send({"type": "ack", "seq": seq, "connectivityStatus": st.status,
                       "lastConnectivityTime": last.isoformat() if last is not None else None})
        elif op == "config":
            zone = cat.arc_zone_for(self.sni or "")
            if zone is None or zone.key != "dp":
                self.send({"type": "error", "seq": seq, "code": "WrongEndpoint",
                           "reason": f"Configuration is served by {discovery_endpoints(cluster.location)['config']}."})
                return
            host.tracker.heartbeat(cid)
            self.send({"type": "config", "seq": seq, "cluster": cid, "extensions": host.config_for(index, cluster)})
        elif op == "discover":
            self.send({"type": "discovery", "seq": seq, "location": cluster.location,
                       "endpoints": discovery_endpoints(cluster.location)})
        else:
            self.send({"type": "error", "seq": seq, "code": "UnknownOperation",
                       "reason": "Send op heartbeat, config or discover."})

    def _refuse(self, ref: Refused) -> None:
        host = self.host
        host.counters["refused"] += 1
        refused_id = self.cluster.id if self.cluster is not None else None
        if refused_id:
            host.tracker.refused(refused_id, ref.code, ref.reason)
        host.event(refused_id, self.src, self.dst, self.sni, ref.code, ref.reason, level=logging.INFO)
        self.send({"type": "refused", "code": ref.code, "reason": ref.reason, "cluster": refused_id, "path": ref.path})
        self.close()

    def _no_hello(self) -> None:
        self.timer = None
        self._refuse(Refused("BadHandshake", f"{PROTOCOL_REASONS['BadHandshake']} (no hello in time)"))

    # plumbing -------------------------------------------------------------------------------
    def send(self, msg: dict) -> None:
        if self.transport is not None and not self.closing:
            self.transport.write(msgspec.json.encode(msg) + b"\n")

    def close(self) -> None:
        """End the session: TLS close_notify after what is written, then the socket."""
        if not self.closing:
            self.closing = True
            self._disarm()
            if self.transport is not None:
                self.transport.close()

    def abort(self) -> None:
        """Close the connection now (the gateway is stopping)."""
        self.closing = True
        self._disarm()
        if self.transport is not None:
            self.transport.abort()

    def _arm(self, seconds: float, then: Callable[[], None]) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(seconds, then)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


__all__ = ["AgentSession", "Refused", "SessionHost", "discovery_endpoints"]
