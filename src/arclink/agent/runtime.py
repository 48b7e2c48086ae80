"""The Arc agent of one cluster: resolve, dial through the loopback mapping, authenticate, heartbeat.

What it does, in order: discover its regional endpoints through ``gbl.his.arc.azure.com``;
open a session to ``<region>.dp.kubernetesconfiguration.azure.com``; send heartbeats;
pull its extensions' configuration. Each name is resolved through the emulator's DNS as
the cluster's site would resolve it, and the connection goes to the gateway's loopback
port carrying the modelled source and destination in a PROXY v2 header — a modelled
address is never dialled. Many agents share one event loop (``arclink fleet``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import ssl
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import msgspec

from arclink import pki
from arclink.model import catalogue as cat
from arclink.model.catalogue import DISCOVERY_NAME
from arclink.model.wire import MAX_MESSAGE, encode_proxy_v2
from arclink.agent.resolver import ResolutionFailed
from arclink.net import is_loopback

log = logging.getLogger("arclink.agent")

AGENT_VERSION = "1.21.10"

# Codes the agent reports for what fails before the gateway decides.
AGENT_REASONS = {
    "DnsResolutionFailed": "The Arc name does not resolve from the cluster's site.",
    "GatewayUnreachable": "Nothing answered at the gateway's loopback address.",
    "GatewayCertificateUntrusted": "The endpoint's TLS certificate is not signed by the emulator CA for this name, so the agent will not talk to it.",
    "ProtocolError": "The endpoint broke off the conversation.",
}


class Resolver(Protocol):
    async def resolve(self, name: str, client_address: str | None) -> list[str]: ...


@lru_cache(maxsize=8)
def client_context(ca_cert: str) -> ssl.SSLContext:
    """One context per CA, shared by every agent of a fleet (contexts are costly to build)."""
    ctx = ssl.create_default_context(cafile=ca_cert)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


@dataclass
class Outcome:
    """What happened on one connection attempt."""

    fqdn: str
    address: str | None = None
    admitted: bool = False
    code: str = ""
    reason: str = ""
    path: str | None = None
    endpoint: str | None = None

    def to_dict(self) -> dict:
        return {"fqdn": self.fqdn, "address": self.address, "admitted": self.admitted, "code": self.code,
                "reason": self.reason, "path": self.path, "endpoint": self.endpoint}


class Refused(Exception):
    def __init__(self, outcome: Outcome):
        super().__init__(f"{outcome.code}: {outcome.reason}")
        self.outcome = outcome


class Session:
    """An admitted TLS session to one Arc endpoint."""

    def __init__(self, reader, writer, outcome: Outcome):
        self.reader, self.writer, self.outcome = reader, writer, outcome
        self._seq = 0

    async def request(self, op: str, timeout: float = 10.0) -> dict:
        self._seq += 1
        self.writer.write(msgspec.json.encode({"op": op, "seq": self._seq}) + b"\n")
        await self.writer.drain()
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        if not line:
            raise Refused(Outcome(self.outcome.fqdn, self.outcome.address, False, "ProtocolError",
                                  AGENT_REASONS["ProtocolError"]))
        msg = msgspec.json.decode(line)
        if msg.get("type") == "refused":
            raise Refused(Outcome(self.outcome.fqdn, self.outcome.address, False, msg.get("code", ""),
                                  msg.get("reason", ""), self.outcome.path, self.outcome.endpoint))
        return msg

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        except (Exception, asyncio.CancelledError):
            pass


@dataclass
class AgentReport:
    cluster: str
    status: str = "Connecting"  # what the agent believes: Connected or not
    discovery: Outcome | None = None
    config: Outcome | None = None
    extensions: list = field(default_factory=list)
    heartbeats: int = 0
    last_error: Outcome | None = None

    @property
    def admitted(self) -> bool:
        return self.status == "Connected"

    def to_dict(self) -> dict:
        return {"cluster": self.cluster, "status": self.status, "heartbeats": self.heartbeats,
                "discovery": self.discovery.to_dict() if self.discovery else None,
                "config": self.config.to_dict() if self.config else None, "extensions": self.extensions,
                "lastError": self.last_error.to_dict() if self.last_error else None}


class Agent:
    def __init__(self, cluster: str, key, address: str, location: str, *, gateway: tuple[str, int] | None,
                 ca_cert: str, resolver: Resolver, heartbeat_interval: float = 5.0, timeout: float = 10.0,
                 open_socket=None):
        # ``open_socket(kind, source)`` (``arclink lab``): a socket already in the site's network,
        # bound to the node's address; the agent then dials the resolved address itself on TCP 443
        # with no PROXY header, and no gateway is given.
        if gateway is None and open_socket is None:
            raise ValueError("an agent needs the gateway's loopback address, or a lab's socket opener")
        if gateway is not None and not is_loopback(gateway[0]):
            raise ValueError("agents dial the gateway on loopback only; modelled addresses are never dialled")
        self.open_socket = open_socket
        self.cluster, self.key, self.address, self.location = cluster, key, address, location
        self.gateway, self.ca_cert, self.resolver = gateway, ca_cert, resolver
        self.heartbeat_interval, self.timeout = heartbeat_interval, timeout
        self.public_key = base64.b64decode(pki.public_key_b64(key))
        self.report = AgentReport(cluster)

    @property
    def config_name(self) -> str:
        """The regional configuration data-plane name (``<region>.dp.kubernetesconfiguration.azure.com``)."""
        return cat.config_endpoint(self.location)

    async def open(self, fqdn: str) -> Session:
        """Resolve ``fqdn`` from the site, dial it through the gateway, authenticate; raises Refused."""
        out = Outcome(fqdn)
        try:
            addrs = await self.resolver.resolve(fqdn, self.address)
        except ResolutionFailed as exc:
            out.code, out.reason = "DnsResolutionFailed", f"{AGENT_REASONS['DnsResolutionFailed']} {exc}."
            raise Refused(out) from None
        out.address = addrs[0]
        loop = asyncio.get_running_loop()
        if self.gateway is None:  # a lab: the real address, from the node's own address
            sock, target, header = self.open_socket(socket.SOCK_STREAM, self.address), (out.address, 443), b""
        else:
            sock = socket.socket(socket.AF_INET6 if ":" in self.gateway[0] else socket.AF_INET, socket.SOCK_STREAM)
            target, header = self.gateway, encode_proxy_v2(self.address, out.address)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(self.timeout):
                await loop.sock_connect(sock, target)
                if header:
                    await loop.sock_sendall(sock, header)
                reader, writer = await asyncio.open_connection(sock=sock, ssl=client_context(self.ca_cert),
                                                               server_hostname=fqdn, limit=MAX_MESSAGE)
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            out.code = "GatewayCertificateUntrusted"
            out.reason = f"{AGENT_REASONS['GatewayCertificateUntrusted']} ({exc.verify_message})"
            raise Refused(out) from None
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            sock.close()
            out.code, out.reason = "GatewayUnreachable", f"{AGENT_REASONS['GatewayUnreachable']} ({exc})"
            raise Refused(out) from None
        try:
            # the hello is the first message (model.wire): signed over a nonce and time of the agent's own
            writer.write(msgspec.json.encode(pki.signed_hello(self.key, fqdn, AGENT_VERSION,
                                                              public_b64=base64.b64encode(self.public_key).decode())) + b"\n")
            await writer.drain()
            answer = msgspec.json.decode(await asyncio.wait_for(reader.readline(), self.timeout))
        except (OSError, TimeoutError, msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
            writer.close()
            out.code, out.reason = "ProtocolError", f"{AGENT_REASONS['ProtocolError']} ({exc or type(exc).__name__})"
            raise Refused(out) from None
        if answer.get("type") != "welcome":
            writer.close()
            out.code, out.reason = answer.get("code", "ProtocolError"), answer.get("reason", "")
            out.path = answer.get("path")
            raise Refused(out)
        out.admitted, out.code, out.path, out.endpoint = True, "Admitted", answer.get("path"), answer.get("endpoint")
        return Session(reader, writer, out)

    async def run_once(self, heartbeats: int = 1) -> AgentReport:
        """Discovery, one config session with ``heartbeats`` heartbeats and a config pull."""
        rep = self.report
        try:
            s = await self.open(DISCOVERY_NAME)
            rep.discovery = s.outcome
            try:
                d = await s.request("discover", self.timeout)
                config_name = d.get("endpoints", {}).get("config") or self.config_name
            finally:
                await s.close()
            s = await self.open(config_name)
            rep.config = s.outcome
            try:
                for i in range(heartbeats):
                    if i:
                        await asyncio.sleep(self.heartbeat_interval)
                    await s.request("heartbeat", self.timeout)
                    rep.heartbeats += 1
                rep.status = "Connected"
                rep.extensions = (await s.request("config", self.timeout)).get("extensions", [])
            finally:
                await s.close()
        except Refused as exc:
            rep.last_error = exc.outcome
            rep.status = "Connecting" if rep.heartbeats == 0 else "Offline"
            if rep.discovery is None:
                rep.discovery = exc.outcome
            elif rep.config is None:
                rep.config = exc.outcome
        except (OSError, TimeoutError, msgspec.DecodeError) as exc:
            rep.last_error = Outcome(self.config_name, None, False, "ProtocolError", f"{exc}")
            rep.status = "Connecting" if rep.heartbeats == 0 else "Offline"
        return rep

    async def run_forever(self, stop: asyncio.Event, retry: float | None = None,
                          config_every: int = 12, on_change=None,
                          open_gate: asyncio.Semaphore | None = None) -> AgentReport:
        """Keep a session open, heartbeat every interval, reconnect (re-resolving) after a refusal."""
        retry = self.heartbeat_interval if retry is None else retry
        rep = self.report
        while not stop.is_set():
            session = None
            try:
                if open_gate is not None:
                    async with open_gate:
                        session = await self.open(self.config_name)
                else:
                    session = await self.open(self.config_name)
                rep.config = session.outcome
                n = 0
                while not stop.is_set():
                    await session.request("heartbeat", self.timeout)
                    rep.heartbeats += 1
                    if rep.status != "Connected":
                        rep.status, rep.last_error = "Connected", None
                        if on_change:
                            on_change(rep)
                    if n % config_every == 0:
                        rep.extensions = (await session.request("config", self.timeout)).get("extensions", [])
                    n += 1
                    await _sleep_or_stop(stop, self.heartbeat_interval)
            except Refused as exc:
                changed = rep.last_error is None or rep.last_error.code != exc.outcome.code
                rep.last_error = exc.outcome
                rep.status = "Offline" if rep.heartbeats else "Connecting"
                if changed and on_change:
                    on_change(rep)
            except (OSError, TimeoutError, msgspec.DecodeError, asyncio.IncompleteReadError) as exc:
                rep.last_error = Outcome(self.config_name, None, False, "ProtocolError", str(exc))
            finally:
                if session is not None:
                    await session.close()
            await _sleep_or_stop(stop, retry)
        return rep


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
