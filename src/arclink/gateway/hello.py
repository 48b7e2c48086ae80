"""Parsing what an agent sends the gateway: the PROXY header's bytes and the JSON lines inside TLS.

Everything here is a pure function of bytes, so it can be fuzzed without a socket. Bad input
raises ``ProxyHeaderError`` (the header) or ``MessageError`` (a line), whose ``reason`` is the
sentence the gateway sends back in its ``refused`` message.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, NamedTuple

import msgspec

from arclink.model.wire import (HEADER_LEN, HELLO_WINDOW, MAX_MESSAGE, NONCE_RANGE, PROTOCOL_REASONS, ProxyHeader,
                                ProxyHeaderError, body_length, decode_proxy_v2)

# The protocol's messages are flat objects; a few levels leave room for what agents may add.
MAX_DEPTH = 32


class MessageError(ValueError):
    """A line from an agent that the gateway refuses; ``reason`` is the sentence to send back."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_proxy_header(data: bytes) -> tuple[ProxyHeader, int]:
    """The PROXY v2 header at the start of ``data`` and how many bytes it took; raises ProxyHeaderError."""
    head = data[:HEADER_LEN]
    if len(head) < HEADER_LEN:
        raise ProxyHeaderError("the connection closed before the PROXY header was complete")
    n = body_length(head)
    body = data[HEADER_LEN:HEADER_LEN + n]
    if len(body) < n:
        raise ProxyHeaderError("the connection closed before the PROXY header was complete")
    return decode_proxy_v2(head, body), HEADER_LEN + n


def too_large() -> MessageError:
    return MessageError(f"A message is larger than {MAX_MESSAGE // 1024} KiB.")


def parse_message(line: bytes) -> Any:
    """One JSON line; raises MessageError for malformed, oversize or too deeply nested JSON."""
    if len(line) > MAX_MESSAGE:
        raise too_large()
    if _nesting(line) > MAX_DEPTH:
        raise MessageError(f"A message is nested more than {MAX_DEPTH} levels deep.")
    try:
        return msgspec.json.decode(line)
    except (msgspec.DecodeError, RecursionError):
        raise MessageError(PROTOCOL_REASONS["BadHandshake"]) from None


def _nesting(line: bytes) -> int:
    """The deepest nesting of JSON arrays and objects in ``line`` (brackets inside strings not counted)."""
    if line.count(b"[") + line.count(b"{") <= MAX_DEPTH:  # the usual line: nothing to scan
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for byte in line:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


class Hello(NamedTuple):
    key: bytes  # the agent's public key, DER
    sig: bytes
    nonce: bytes
    issued: int  # the Unix time the agent signed at


def parse_hello(msg: Any) -> Hello:
    """The parts of a hello (``arclink.model.wire``); raises MessageError for anything else."""
    if not isinstance(msg, dict) or msg.get("type") != "hello":
        raise MessageError(PROTOCOL_REASONS["BadHandshake"])
    try:
        der = base64.b64decode(msg.get("key") or "", validate=True)
        sig = base64.b64decode(msg.get("sig") or "", validate=True)
        nonce = base64.b64decode(msg.get("nonce") or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise MessageError(PROTOCOL_REASONS["BadHandshake"]) from None
    issued = msg.get("time")
    if not NONCE_RANGE[0] <= len(nonce) <= NONCE_RANGE[1] or type(issued) is not int:
        raise MessageError(f"{PROTOCOL_REASONS['BadHandshake']} (a hello carries a nonce of {NONCE_RANGE[0]} to "
                           f"{NONCE_RANGE[1]} bytes and the Unix time it was signed at, as a whole number)")
    return Hello(der, sig, nonce, issued)


def stale(issued: int, now: float) -> MessageError | None:
    """Why a hello signed at ``issued`` is refused at ``now``, or None when it is fresh enough."""
    off = int(now) - issued  # in integers: a hello may carry any whole number
    if abs(off) <= HELLO_WINDOW:
        return None
    return MessageError(f"{PROTOCOL_REASONS['BadHandshake']} (the hello was signed "
                        f"{_seconds(abs(off))} {'before' if off > 0 else 'after'} the gateway's time, more than "
                        f"the {HELLO_WINDOW} s allowed: set the agent's clock)")


def _seconds(n: int) -> str:
    return f"{n} s" if n < 10**9 else "ages"


def require_sni(sni: str | None) -> str:
    """The Arc FQDN the agent named in TLS; a handshake without SNI is refused (docs/gateway.md)."""
    if not sni:
        raise MessageError(f"{PROTOCOL_REASONS['BadHandshake']} (the TLS handshake named no server: set SNI to "
                           "the Arc FQDN the agent dials)")
    return sni


__all__ = ["MAX_DEPTH", "Hello", "MessageError", "parse_hello", "stale", "parse_message", "parse_proxy_header", "require_sni",
           "too_large"]
