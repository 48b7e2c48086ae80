"""What the fuzzers call: one function per parser, taking the fuzzer's bytes.

A target returns normally for any input its parser handles, including input it refuses with
its documented error type; any other exception is a crash. The documented types:

- ``arm_body``: ``arclink.arm.errors.ArmError`` (a 400 InvalidRequestContent), from the ARM
  emulator's and the control API's JSON-object readers; ``_location_of`` never raises.
- ``dns_wire``: none. ``arclink.dns.wire.answer`` turns every internal error into SERVFAIL and
  logs it, so here a logged internal error is a crash too; the answer is None or a response.
- ``proxy_hello``: ``ProxyHeaderError`` for the PROXY v2 header, ``MessageError`` for a line.
- ``topology``: ``arclink.model.errors.TopologyError``.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"


class Crash(AssertionError):
    """A parser failed in a way its contract does not allow."""


def arm_body() -> Callable[[bytes], None]:
    from arclink.arm import control, wire
    from arclink.arm.errors import ArmError

    def one(data: bytes) -> None:
        for read in (wire.json_object, lambda b: control._json_object(b, "The body must be a JSON object.")):
            try:
                obj = read(data)
            except ArmError as exc:
                if exc.status != 400:
                    raise Crash(f"status {exc.status} for a malformed body") from exc
            else:
                if not isinstance(obj, dict):
                    raise Crash(f"a {type(obj).__name__} accepted as a JSON object")
        location = wire.location_of(data)
        if location is not None and not isinstance(location, str):
            raise Crash(f"location {location!r} is not a string")
    return one


def dns_wire() -> Callable[[bytes], None]:
    from arclink.dns import wire
    from arclink.model.loader import load

    index = load(ROOT / "examples" / "good.yaml")

    class _RaiseOnInternalError:  # answer() logs what it caught; a fuzzer must see it
        def exception(self, msg, *args, **kwargs):
            raise Crash(msg % args if args else msg)

        def __getattr__(self, name):
            return lambda *a, **k: None

    wire.log = _RaiseOnInternalError()
    cache: dict = {}

    def one(data: bytes) -> None:
        if not data:
            return
        transport = "tcp" if data[0] & 1 else "udp"
        source = "127.0.0.1" if data[0] & 2 else "192.168.10.10"
        out = wire.answer(index, None, data[1:], source=source, transport=transport, cache=cache)
        if len(cache) > 10_000:
            cache.clear()
        if out is None:
            return
        if len(out) < 12 or not struct.unpack_from("!H", out, 2)[0] & 0x8000:
            raise Crash("the answer is not a DNS response")
        if transport == "udp" and len(out) > 1232:
            raise Crash(f"a {len(out)}-byte UDP answer")
    return one


def proxy_hello() -> Callable[[bytes], None]:
    from arclink.gateway.hello import MessageError, parse_hello, parse_message, parse_proxy_header, require_sni, stale
    from arclink.model.wire import ProxyHeaderError

    def one(data: bytes) -> None:
        rest = data
        try:
            header, used = parse_proxy_header(data)
            if used > len(data) or (not header.local and not (header.src and header.dst)):
                raise Crash(f"a header of {used} bytes with {header}")
            rest = data[used:]
        except ProxyHeaderError:
            pass
        for line in rest.split(b"\n")[:8]:
            try:
                msg = parse_message(line)
                hello = parse_hello(msg)
                if not all(isinstance(part, bytes) for part in hello[:3]) or type(hello.issued) is not int:
                    raise Crash("a hello without bytes or time")
                too_old = stale(hello.issued, 1.8e9)
                if too_old is not None and not too_old.reason:
                    raise Crash("a stale hello without a reason")
            except MessageError as exc:
                if not exc.reason:
                    raise Crash("a refusal without a reason") from exc
        try:
            require_sni(rest[:64].decode("latin-1") or None)
        except MessageError:
            pass
    return one


def topology() -> Callable[[bytes], None]:
    from arclink.model.errors import TopologyError
    from arclink.model.loader import loads

    def one(data: bytes) -> None:
        try:
            loads(data.decode("utf-8", "replace"), file="fuzz.yaml")
        except TopologyError as exc:
            if not str(exc).startswith("fuzz.yaml"):
                raise Crash(f"a refusal that does not name the file: {exc}") from exc
    return one


TARGETS: dict[str, Callable[[], Callable[[bytes], None]]] = {
    "arm_body": arm_body, "dns_wire": dns_wire, "proxy_hello": proxy_hello, "topology": topology,
}

# The modules each fuzzer instruments for coverage: the parsers, not their libraries.
INSTRUMENT = {
    "arm_body": ["arclink.arm.app", "arclink.arm.control"],
    "dns_wire": ["arclink.dns.wire", "arclink.dns.views", "arclink.model.resolve"],
    "proxy_hello": ["arclink.gateway.hello", "arclink.model.wire"],
    "topology": ["arclink.model.loader", "arclink.model.index"],
}
