"""``gateway.tls.start_server_tls`` puts TLS on a connection that began in plain text, on uvloop's
loop and on asyncio's (each with its own TLS protocol class), and through ``start_tls`` in a task
where the class is unknown: the protocol is made once the handshake is done, and a failed
handshake is reported and never reaches it."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from arclink.gateway import tls as gateway_tls
from arclink.loopthread import new_event_loop

pytestmark = pytest.mark.timeout(60)
FQDN = "gbl.his.arc.azure.com"


class Echo(asyncio.Protocol):
    """One line back, then close."""

    def __init__(self) -> None:
        self.made = 0
        self.buffer = b""

    def connection_made(self, transport):
        self.made += 1
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        if b"\n" in self.buffer:
            self.transport.write(self.buffer)
            self.transport.close()


class Plain(asyncio.Protocol):
    """Reads one plain line, as the gateway reads a PROXY header, then hands the connection to TLS."""

    def __init__(self, ctx: ssl.SSLContext, echo: Echo, settled: asyncio.Future) -> None:
        self.ctx, self.echo, self.settled = ctx, echo, settled

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        assert data == b"PLAIN\n"  # the client waits for the answer before it starts TLS
        self.transport.pause_reading()
        self.transport.write(b"OK\n")
        gateway_tls.start_server_tls(self.transport, self.echo, self.ctx, 5.0, self.settled.set_result)


async def _scenario(state_dir, tls_client: bool) -> tuple[bytes | None, BaseException | None, int]:
    loop = asyncio.get_running_loop()
    ctx = gateway_tls.server_context(state_dir)
    echo, settled = Echo(), loop.create_future()
    server = await loop.create_server(lambda: Plain(ctx, echo, settled), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"PLAIN\n")
    assert await reader.readline() == b"OK\n"
    answer = None
    if tls_client:
        await writer.start_tls(ssl.create_default_context(cafile=str(state_dir / "ca.pem")), server_hostname=FQDN)
        writer.write(b"hello over TLS\n")
        answer = await reader.readline()
    else:
        writer.write(b"this is not a ClientHello\r\n" * 4)
        await reader.read()  # the server closes
    exc = await asyncio.wait_for(settled, 10)
    writer.close()
    server.close()
    return answer, exc, echo.made


def _run(kind: str, coro):
    if kind == "asyncio":
        return asyncio.run(coro)
    loop = new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


@pytest.fixture(params=["uvloop", "asyncio", "start_tls"])
def kind(request, monkeypatch):
    if request.param == "start_tls":  # a loop whose TLS protocol class is unknown
        monkeypatch.setattr(gateway_tls, "_tls_protocol_class", lambda loop: None)
    return request.param


def test_tls_on_a_connection_that_began_in_plain_text(tmp_path, kind):
    answer, exc, made = _run("asyncio" if kind == "asyncio" else "uvloop", _scenario(tmp_path, tls_client=True))
    assert answer == b"hello over TLS\n" and exc is None and made == 1


def test_a_failed_handshake_is_reported_and_the_protocol_never_made(tmp_path, kind):
    answer, exc, made = _run("asyncio" if kind == "asyncio" else "uvloop", _scenario(tmp_path, tls_client=False))
    assert exc is not None and made == 0


def test_the_loops_own_tls_protocol_class_is_found():
    uv = new_event_loop()
    plain = asyncio.new_event_loop()
    try:
        if type(uv).__module__.startswith("uvloop"):
            assert gateway_tls._tls_protocol_class(uv) is not None
        assert gateway_tls._tls_protocol_class(plain) is asyncio.sslproto.SSLProtocol
    finally:
        uv.close()
        plain.close()
