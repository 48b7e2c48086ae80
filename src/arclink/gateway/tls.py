"""The gateway's TLS: its certificate (the Arc FQDNs, signed by the emulator CA, made once per state
dir) and the upgrade of an accepted connection to TLS once its PROXY header is read."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any, Callable

from arclink import pki
from arclink.model import catalogue as cat


def arc_dns_names() -> list[str]:
    """Every name an agent may dial: the public Arc zones and their privatelink twins."""
    names = []
    for z in cat.ARC_ZONES:
        for zone in (z.public_zone, z.private_zone):
            names += [zone, f"*.{zone}"]
    return names


def gateway_cert(state_dir: str | Path) -> tuple[Path, Path]:
    d = Path(state_dir)
    cert, key = d / "gateway.pem", d / "gateway-key.pem"
    if not (cert.exists() and key.exists()):
        ca = pki.ensure_ca(d)
        cert_pem, key_pem = pki.issue_server_cert(ca, arc_dns_names(), common_name=cat.DISCOVERY_NAME)
        cert, key = pki.write_leaf(d, "gateway", cert_pem, key_pem)
    return cert, key


def server_context(state_dir: str | Path) -> ssl.SSLContext:
    cert, key = gateway_cert(state_dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def start_server_tls(transport: asyncio.Transport, protocol: asyncio.Protocol, ctx: ssl.SSLContext,
                     handshake_timeout: float, settled: Callable[[BaseException | None], None]) -> None:
    """TLS, server side, on ``transport`` (reading paused): ``protocol.connection_made`` is called with
    the TLS transport when the handshake is done; then, or when it fails, ``settled(exc)``. With an
    exception the transport is closed and ``protocol`` hears nothing; without one the protocol may
    still not have been made (the connection closed during the handshake).

    This is ``loop.start_tls`` without its task and its awaiting, which cost as much as the rest of
    an admission's Python: the loop's own TLS protocol is put on the transport directly. Loops
    whose TLS protocol class is not known here get ``start_tls`` in a task.
    """
    loop = asyncio.get_running_loop()
    cls = _tls_protocol_class(loop)
    if cls is None:
        task = loop.create_task(_start_tls(loop, transport, protocol, ctx, handshake_timeout, settled))
        _pending.add(task)
        task.add_done_callback(_pending.discard)
        return
    waiter = loop.create_future()
    tls = cls(loop, protocol, ctx, waiter, True, None, ssl_handshake_timeout=handshake_timeout)
    transport.set_protocol(tls)
    tls.connection_made(transport)
    transport.resume_reading()

    def done(fut: asyncio.Future) -> None:
        exc = asyncio.CancelledError() if fut.cancelled() else fut.exception()
        if exc is not None:
            transport.abort()
        settled(exc)
    waiter.add_done_callback(done)


_pending: set[asyncio.Task] = set()


async def _start_tls(loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, protocol: asyncio.Protocol,
                     ctx: ssl.SSLContext, handshake_timeout: float,
                     settled: Callable[[BaseException | None], None]) -> None:
    try:
        tls = await loop.start_tls(transport, protocol, ctx, server_side=True, ssl_handshake_timeout=handshake_timeout)
    except (OSError, TimeoutError, ConnectionError, asyncio.CancelledError) as exc:
        transport.abort()
        settled(exc)
        if isinstance(exc, asyncio.CancelledError):
            raise
        return
    assert tls is not None  # start_tls returns the transport or raises
    protocol.connection_made(tls)  # start_tls leaves that to the caller
    settled(None)


def _tls_protocol_class(loop: asyncio.AbstractEventLoop) -> Any:
    """The TLS protocol class ``loop.start_tls`` itself would use (same constructor in both), or None."""
    if type(loop).__module__.startswith("uvloop"):
        import uvloop.loop

        return getattr(uvloop.loop, "SSLProtocol", None)  # not in uvloop's type stubs
    if isinstance(loop, asyncio.BaseEventLoop):
        from asyncio.sslproto import SSLProtocol as AsyncioSSLProtocol

        return AsyncioSSLProtocol
    return None
