"""The gateway answers bad hellos with its documented refusal (docs/gateway.md): a ``refused`` line
with code BadHandshake and a sentence, never a silent close or an unhandled exception."""

from __future__ import annotations

import asyncio
import ssl
import sys
from pathlib import Path

import msgspec
import pytest

from arclink import pki
from arclink.model.wire import MAX_MESSAGE, encode_proxy_v2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
from gateway_fixtures import World  # noqa: E402

pytestmark = pytest.mark.timeout(60)
FQDN = "gbl.his.arc.azure.com"


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path, handshake_timeout=5.0)
    yield w
    w.gw.close()


async def _dial(world: World, sni: str | None):
    ctx = ssl.create_default_context(cafile=str(world.state_dir / "ca.pem"))
    if sni is None:  # no server name: no SNI extension in the ClientHello
        ctx.check_hostname = False
    reader, writer = await asyncio.open_connection("127.0.0.1", world.gw.port, limit=4 * MAX_MESSAGE)
    c = world.cluster("ok")
    writer.write(encode_proxy_v2(c.address, "10.10.1.4"))
    await writer.drain()
    await writer.start_tls(ctx, server_hostname=sni)
    return reader, writer


def _hello(world: World, sni: str, **change) -> bytes:
    return msgspec.json.encode({**pki.signed_hello(world.keys["ok"], sni, "test"), **change}) + b"\n"


async def _answer(reader, writer) -> dict:
    line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert line, "the gateway closed the connection without a refused message"
    return msgspec.json.decode(line)


def _refused(world: World, send) -> dict:
    async def scenario():
        reader, writer = await _dial(world, FQDN)
        writer.write(send())
        await writer.drain()
        return await _answer(reader, writer)
    return asyncio.run(scenario())


def test_a_deeply_nested_hello_is_refused(world):
    answer = _refused(world, lambda: b'{"type":"hello","key":' + b"[" * 20_000 + b"]" * 20_000 + b"}\n")
    assert answer["type"] == "refused" and answer["code"] == "BadHandshake", answer
    assert "nested" in answer["reason"]
    assert world.run("ok").status == "Connected"


def test_nesting_inside_strings_does_not_count(world):
    """Brackets inside a JSON string are text, not nesting: the hello is judged on its key and signature."""
    def send():
        line = _hello(world, FQDN)
        return line[:-2] + b',"note":"' + b"[" * 1000 + b'"}\n'
    answer = _refused(world, send)
    assert answer["type"] == "welcome", answer


def test_a_line_over_64_kib_is_refused_with_a_message(world):
    # exactly past the limit and no more: every byte sent is read, so the close cannot reset the refusal
    answer = _refused(world, lambda: b"x" * (MAX_MESSAGE + 2))
    assert answer["type"] == "refused" and answer["code"] == "BadHandshake", answer
    assert "64 KiB" in answer["reason"]


def test_a_tls_handshake_without_sni_is_refused(world):
    async def scenario():
        reader, writer = await _dial(world, None)
        writer.write(_hello(world, ""))  # a valid signature over an empty name
        await writer.drain()
        return await _answer(reader, writer)
    answer = asyncio.run(scenario())
    assert answer["type"] == "refused" and answer["code"] == "BadHandshake", answer
    assert "SNI" in answer["reason"]
    assert world.gw.counters.get("admitted", 0) == 0
    assert world.run("ok").status == "Connected"
