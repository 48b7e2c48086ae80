"""An agent's hello is its first message, signed over a nonce and time of its own (model.wire): the
gateway admits it once, within the window of its clock, and refuses a replay, a stale or future
time, a time changed after signing and a hello without a nonce."""

from __future__ import annotations

import asyncio
import ssl
import time

import msgspec
import pytest

from arclink import pki
from arclink.gateway.replay import SeenNonces
from arclink.model.wire import HELLO_WINDOW, encode_proxy_v2

pytestmark = pytest.mark.timeout(60)
FQDN = "westeurope.dp.kubernetesconfiguration.azure.com"


def _send(world, line: bytes) -> dict:
    """One connection of the cluster 'ok' to its private endpoint, this line as its first message; the answer."""
    ctx = ssl.create_default_context(cafile=str(world.state_dir / "ca.pem"))

    async def scenario():
        r, w = await asyncio.open_connection("127.0.0.1", world.gw.port)
        w.write(encode_proxy_v2(world.cluster("ok").address, "10.10.1.9"))
        await w.drain()
        await w.start_tls(ctx, server_hostname=FQDN)
        w.write(line)
        await w.drain()
        answer = await asyncio.wait_for(r.readline(), 10)
        w.close()
        return msgspec.json.decode(answer)

    return asyncio.run(scenario())


def _line(hello: dict) -> bytes:
    return msgspec.json.encode(hello) + b"\n"


def test_a_hello_is_admitted_once_and_its_replay_refused(world):
    hello = _line(pki.signed_hello(world.keys["ok"], FQDN, "test"))
    assert _send(world, hello)["type"] == "welcome"
    again = _send(world, hello)  # the same bytes on a new connection: whoever read them cannot reuse them
    assert again["type"] == "refused" and again["code"] == "BadHandshake", again
    assert "fresh nonce" in again["reason"]
    assert _send(world, _line(pki.signed_hello(world.keys["ok"], FQDN, "test")))["type"] == "welcome"


@pytest.mark.parametrize("offset", [-(HELLO_WINDOW + 60), HELLO_WINDOW + 60])
def test_a_hello_outside_the_window_is_refused_with_the_clock_to_fix(world, offset):
    issued = int(time.time()) + offset
    answer = _send(world, _line(pki.signed_hello(world.keys["ok"], FQDN, "test", issued=issued)))
    assert answer["type"] == "refused" and answer["code"] == "BadHandshake", answer
    assert "clock" in answer["reason"]
    assert ("before" if offset < 0 else "after") in answer["reason"]


def test_a_hello_inside_the_window_is_admitted(world):
    issued = int(time.time()) - HELLO_WINDOW // 2
    assert _send(world, _line(pki.signed_hello(world.keys["ok"], FQDN, "test", issued=issued)))["type"] == "welcome"


def test_a_time_changed_after_signing_breaks_the_signature(world):
    hello = pki.signed_hello(world.keys["ok"], FQDN, "test")
    answer = _send(world, _line({**hello, "time": hello["time"] - 1}))
    assert answer["type"] == "refused" and answer["code"] == "ClusterNotRegistered", answer
    assert "signature does not match" in answer["reason"]


@pytest.mark.parametrize("change", [{"nonce": None}, {"time": None}, {"time": "now"}, {"time": True},
                                    {"nonce": "c2hvcnQ="}])  # "short": five bytes
def test_a_hello_without_a_usable_nonce_or_time_is_refused(world, change):
    answer = _send(world, _line({**pki.signed_hello(world.keys["ok"], FQDN, "test"), **change}))
    assert answer["type"] == "refused" and answer["code"] == "BadHandshake", answer
    assert "nonce of 16 to 64 bytes" in answer["reason"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_nonces_are_remembered_for_twice_the_window_at_least():
    clock = Clock()
    seen = SeenNonces(window=10, clock=clock)
    assert seen.first_use(b"a") and not seen.first_use(b"a")
    clock.now += 19.9  # a hello signed 10 s in the future, first used now, is accepted until +20 s
    assert not seen.first_use(b"a")
    clock.now += 0.2  # a new generation: the old one is still asked
    assert not seen.first_use(b"a")
    assert seen.first_use(b"b")
    clock.now += 20  # b's generation is now the older one; a's is forgotten
    assert seen.first_use(b"a") and not seen.first_use(b"b")
    clock.now += 100  # long idle: nothing older than two periods is kept
    assert seen.first_use(b"b")


def test_nonces_beyond_the_cap_are_refused_not_forgotten():
    seen = SeenNonces(window=10, clock=Clock(), cap=2)
    assert seen.first_use(b"a") and seen.first_use(b"b")
    assert seen.full() and not seen.first_use(b"a")
