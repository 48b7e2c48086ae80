"""The contract between agents and the private-endpoint gateway: how a connection starts.

Modelled addresses (10.x, 192.168.x, public) are never dialled. An agent connects
to the gateway's loopback listener and first sends a PROXY protocol v2 header
(haproxy's proxy-protocol.txt, section 2.2) carrying the modelled source (its node
address) and destination (the address the Arc name resolved to, port 443). Then
TLS, with SNI set to the Arc FQDN. Inside TLS, newline-delimited JSON messages:

    agent   -> {"type": "hello", "key": b64 DER public key, "nonce": b64, "time": int,
                "sig": b64, "agentVersion": str}
    gateway -> {"type": "welcome", ...} | {"type": "refused", "code": str, "reason": str}
    agent   -> {"op": "heartbeat" | "config" | "discover", "seq": int}
    gateway -> {"type": "ack" | "config" | "discovery" | "refused", ...}

The agent proves it holds the private key whose public half is the cluster's
``agentPublicKeyCertificate`` by signing ``auth_payload(nonce, time, sni)``: a nonce of its own
(``NONCE_BYTES``), the Unix time it signed at, and the name it dialled. The hello is the agent's
first message, sent as soon as TLS is up, so an admission costs no round trip beyond TLS's own.
The gateway accepts a hello whose time is within ``HELLO_WINDOW`` of its clock and whose nonce it
has not admitted before (it remembers admitted nonces for as long as their time is accepted).
Inside TLS no one else sees a hello, so the nonce and time guard against a replay by whoever
could read one from an agent's side, as a fresh challenge from the gateway would, without its
round trip.

The PROXY header is read byte-exactly before TLS starts, so it is decoded here
rather than by a streaming library that might read past it.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
HEADER_LEN = 16  # signature (12) + version/command + family/protocol + length (2)
MAX_TLV = 1024  # we send no TLVs; refuse headers that carry a lot
MAX_MESSAGE = 64 * 1024  # one JSON line, either way

_CMD_LOCAL, _CMD_PROXY = 0x20, 0x21
_TCP4, _TCP6 = 0x11, 0x21


class ProxyHeaderError(ValueError):
    """The first bytes of a connection are not a PROXY protocol v2 header we accept."""


@dataclass(frozen=True)
class ProxyHeader:
    src: str | None
    dst: str | None
    src_port: int = 0
    dst_port: int = 0
    local: bool = False  # the LOCAL command: a health check, no addresses


def encode_proxy_v2(src: str, dst: str, src_port: int = 40000, dst_port: int = 443) -> bytes:
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version != d.version:
        raise ValueError("source and destination must both be IPv4 or both IPv6")
    fam = _TCP4 if s.version == 4 else _TCP6
    body = s.packed + d.packed + struct.pack("!HH", src_port, dst_port)
    return SIGNATURE + bytes([_CMD_PROXY, fam]) + struct.pack("!H", len(body)) + body


def body_length(head: bytes) -> int:
    """Validate the fixed 16 bytes and return how many bytes follow."""
    if len(head) != HEADER_LEN or head[:12] != SIGNATURE:
        raise ProxyHeaderError("the connection did not start with a PROXY protocol v2 header")
    if head[12] not in (_CMD_LOCAL, _CMD_PROXY):
        raise ProxyHeaderError("unsupported PROXY protocol version or command")
    (length,) = struct.unpack("!H", head[14:16])
    fam = head[13]
    need = {_TCP4: 12, _TCP6: 36}.get(fam, 0)
    if head[12] == _CMD_PROXY and need == 0:
        raise ProxyHeaderError("the PROXY header must carry TCP over IPv4 or IPv6 addresses")
    if length < need or length > need + MAX_TLV:
        raise ProxyHeaderError("the PROXY header has an invalid length")
    return length


def decode_proxy_v2(head: bytes, body: bytes, *, checked: bool = False) -> ProxyHeader:
    """The header whose fixed part is ``head`` (``checked``: already passed through ``body_length``)."""
    if not checked:
        body_length(head)
    if head[12] == _CMD_LOCAL:
        return ProxyHeader(None, None, local=True)
    if head[13] == _TCP4:  # every agent's header: inet_ntop writes what str(IPv4Address) would, without the object
        sp, dp = struct.unpack("!HH", body[8:12])
        return ProxyHeader(socket.inet_ntop(socket.AF_INET, body[0:4]), socket.inet_ntop(socket.AF_INET, body[4:8]),
                           sp, dp)
    sp, dp = struct.unpack("!HH", body[32:36])
    return ProxyHeader(str(ipaddress.IPv6Address(body[0:16])), str(ipaddress.IPv6Address(body[16:32])), sp, dp)


# How far a hello's time may be from the gateway's clock, either way, in seconds. Our choice (the
# protocol is the emulator's own): agents and gateway share a clock on one machine and in the lab;
# two minutes leave room for a real agent's clock drift.
HELLO_WINDOW = 120
NONCE_BYTES = 32  # what agents send; the gateway accepts 16 to 64
NONCE_RANGE = (16, 64)


def auth_payload(nonce: bytes, issued: int, sni: str) -> bytes:
    """What the agent signs: its nonce, the Unix time it signed at, and the name it dialled."""
    return b"arclink-agent-auth-v2\x00" + nonce + b"\x00" + str(issued).encode() + b"\x00" + sni.lower().encode()


# Codes the gateway uses besides reach()'s admission reasons (arclink.model.reach.REASONS).
PROTOCOL_REASONS = {
    "BadHandshake": "The agent did not complete the gateway's authentication handshake.",
    "HeartbeatMissed": "The gateway received no heartbeat from the cluster's agent in time.",
    "Overloaded": "The gateway has reached its connection limit.",
}
