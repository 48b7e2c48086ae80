"""PROXY protocol v2 headers: how a loopback connection carries its modelled source and destination.

The emulator never dials modelled addresses (design.md, "Safety of the network"); a client
connects to a 127.0.0.1 listener and first sends this header naming the modelled addresses.
Format: the HAProxy PROXY protocol specification, version 2 (binary), TCP over IPv4/IPv6.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_V2_PROXY = 0x21  # version 2, command PROXY
_V2_LOCAL = 0x20  # version 2, command LOCAL (health checks: no addresses)
_TCP4, _TCP6 = 0x11, 0x21
HEADER_MIN = 16  # signature (12) + ver/cmd + family + length (2)


@dataclass(frozen=True)
class ProxyHeader:
    src: str
    src_port: int
    dst: str
    dst_port: int


def encode(src: str, dst: str, dst_port: int = 443, src_port: int = 50000) -> bytes:
    """The v2 header for a TCP connection from ``src:src_port`` to ``dst:dst_port``."""
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version != d.version:
        raise ValueError(f"source {src} and destination {dst} are not the same IP version")
    family = _TCP4 if s.version == 4 else _TCP6
    body = s.packed + d.packed + struct.pack("!HH", src_port, dst_port)
    return SIGNATURE + bytes((_V2_PROXY, family)) + struct.pack("!H", len(body)) + body


def body_length(prefix: bytes) -> int:
    """Bytes that follow the 16-byte prefix; raises ValueError when it is not a v2 header."""
    if len(prefix) < HEADER_MIN or prefix[:12] != SIGNATURE or prefix[12] >> 4 != 2:
        raise ValueError("not a PROXY protocol v2 header")
    return struct.unpack("!H", prefix[14:16])[0]


def decode(header: bytes) -> ProxyHeader | None:
    """Parse a whole header (prefix + body). None for LOCAL; ValueError when malformed."""
    n = body_length(header[:HEADER_MIN])
    body = header[HEADER_MIN:HEADER_MIN + n]
    if len(body) < n:
        raise ValueError("truncated PROXY protocol v2 header")
    cmd, family = header[12], header[13]
    if cmd == _V2_LOCAL:
        return None
    if cmd != _V2_PROXY:
        raise ValueError("unknown PROXY protocol v2 command")
    if family == _TCP4 and n >= 12:
        src, dst, size = ipaddress.IPv4Address(body[0:4]), ipaddress.IPv4Address(body[4:8]), 8
    elif family == _TCP6 and n >= 36:
        src, dst, size = ipaddress.IPv6Address(body[0:16]), ipaddress.IPv6Address(body[16:32]), 32
    else:
        raise ValueError("unsupported PROXY protocol v2 address family")
    sport, dport = struct.unpack("!HH", body[size:size + 4])
    return ProxyHeader(str(src), sport, str(dst), dport)
