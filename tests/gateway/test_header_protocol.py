"""The loop reads a connection's PROXY header through HeaderProtocol's buffers, and never a byte of
the TLS behind it, however the bytes arrive."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from arclink.gateway.accept import HeaderProtocol
from arclink.model.wire import SIGNATURE, ProxyHeader, encode_proxy_v2
from gateway_fixtures import World

TLS = b"\x16\x03\x01 the ClientHello"


class Sink:
    header_timeout = 5.0

    def __init__(self) -> None:
        self.reading_headers: set = set()
        self.headers: list[ProxyHeader] = []
        self.bad: list[str] = []
        self.released = 0

    def admit_connection(self, peer: str, fileno: int) -> bool:
        return True

    def release_connection(self, peer: str) -> None:
        self.released += 1

    def bad_header(self, reason: str) -> None:
        self.bad.append(reason)

    def header_read(self, transport, header: ProxyHeader, release) -> None:
        self.headers.append(header)


class Transport:
    def __init__(self) -> None:
        self.paused = self.closed = False

    def get_extra_info(self, name: str):
        return ("127.0.0.1", 40000) if name == "peername" else None

    def pause_reading(self) -> None:
        self.paused = True

    def close(self) -> None:
        self.closed = True

    abort = close


def _read(data: bytes, chunk: int) -> tuple[Sink, Transport, int]:
    """Feed ``data`` as the loop would, ``chunk`` bytes a read at most, until reading stops."""
    async def run() -> tuple[Sink, Transport, int]:
        sink, tr = Sink(), Transport()
        proto = HeaderProtocol(sink)
        proto.connection_made(tr)  # type: ignore[arg-type]
        done = 0
        while done < len(data) and not (tr.paused or tr.closed):
            buf = proto.get_buffer(-1)
            assert len(buf) > 0
            n = min(len(buf), chunk, len(data) - done)
            buf[:n] = data[done:done + n]
            proto.buffer_updated(n)
            done += n
        pending = set(sink.reading_headers)
        proto.connection_lost(None)
        assert not sink.reading_headers  # handed over or gone: the gateway no longer closes it on stop
        assert pending == (set() if sink.headers else {proto})
        return sink, tr, done

    return asyncio.run(run())


@pytest.mark.parametrize("chunk", [1, 7, 16, 28, 4096])
@pytest.mark.parametrize("src,dst", [("192.168.10.10", "10.10.1.4"), ("fd00::10", "fd00::4")])
def test_the_header_is_read_exactly_whatever_the_reads(chunk, src, dst):
    header = encode_proxy_v2(src, dst)
    sink, tr, consumed = _read(header + TLS, chunk)
    assert consumed == len(header) and tr.paused and not tr.closed
    assert [(h.src, h.dst, h.dst_port) for h in sink.headers] == [(src, dst, 443)]
    assert sink.released == 0  # the connection's count now belongs to the gateway's session


def test_a_local_header_is_closed_without_a_session():
    sink, tr, _ = _read(SIGNATURE + bytes([0x20, 0x00]) + b"\x00\x00", 4096)
    assert tr.closed and not sink.headers and not sink.bad and sink.released == 1


def test_garbage_is_a_bad_header():
    sink, tr, _ = _read(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 4096)
    assert tr.closed and not sink.headers and sink.released == 1
    assert sink.bad == ["the connection did not start with a PROXY protocol v2 header"]


def test_stopping_the_gateway_closes_connections_still_sending_their_header(tmp_path):
    world = World(tmp_path, header_timeout=60.0)
    sock = socket.create_connection(("127.0.0.1", world.gw.port), timeout=10)
    try:
        sock.sendall(encode_proxy_v2("192.168.10.10", "10.10.1.4")[:7])
        deadline = time.monotonic() + 10
        while not world.gw.gateway.reading_headers:  # until the gateway holds it in its header phase
            assert time.monotonic() < deadline, "the gateway never counted the connection"
            time.sleep(0.005)
        world.gw.close()
        try:
            assert sock.recv(1) == b""
        except ConnectionResetError:
            pass  # aborted: as closed
    finally:
        sock.close()
