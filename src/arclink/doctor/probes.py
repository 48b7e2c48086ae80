"""The doctor's own small network client: one DNS query, one TCP connect, one TLS handshake.

Every probe is a coroutine bounded by a timeout and returns a plain result (never raises
for network trouble), so the runner can run them all at once and still finish in time.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from dataclasses import dataclass, field

import dns.asyncquery
import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from arclink import pki
from arclink.model import wire


@dataclass
class DnsAnswer:
    name: str
    server: str  # host:port asked
    rcode: str = "NOERROR"  # NOERROR, NXDOMAIN, SERVFAIL, ... or TIMEOUT / ERROR
    cnames: list = field(default_factory=list)  # [(owner, target)]
    addresses: list = field(default_factory=list)
    error: str | None = None
    elapsed_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.rcode == "NOERROR" and bool(self.addresses)

    def to_dict(self) -> dict:
        return {"name": self.name, "server": self.server, "rcode": self.rcode,
                "cnames": [{"name": o, "target": t} for o, t in self.cnames], "addresses": list(self.addresses),
                "error": self.error, "elapsedMs": self.elapsed_ms}


async def dns_query(name: str, host: str, port: int, timeout: float, ecs: str | None = None) -> DnsAnswer:
    """Ask ``host:port`` for the A record of ``name`` (recursion desired), optionally with ECS."""
    started = time.monotonic()
    out = DnsAnswer(name, f"{host}:{port}" if ":" not in host else f"[{host}]:{port}")
    options = [dns.edns.ECSOption(ecs, 32 if ":" not in ecs else 128)] if ecs else []
    q = dns.message.make_query(name, "A", use_edns=0, options=options)
    try:
        resp = await asyncio.wait_for(dns.asyncquery.udp(q, host, port=port, timeout=timeout), timeout)
        if resp.flags & dns.flags.TC:
            resp = await asyncio.wait_for(dns.asyncquery.tcp(q, host, port=port, timeout=timeout), timeout)
    except (asyncio.TimeoutError, dns.exception.Timeout):
        out.rcode, out.error = "TIMEOUT", f"no answer from {out.server} within {timeout:g} s"
    except (OSError, dns.exception.DNSException) as exc:
        out.rcode, out.error = "ERROR", f"{type(exc).__name__}: {exc}"
    else:
        out.rcode = dns.rcode.to_text(resp.rcode())
        for rrset in resp.answer:
            for rr in rrset:
                if rrset.rdtype == dns.rdatatype.CNAME:
                    out.cnames.append((rrset.name.to_text(omit_final_dot=True).lower(),
                                       rr.target.to_text(omit_final_dot=True).lower()))
                elif rrset.rdtype == dns.rdatatype.A:
                    out.addresses.append(rr.address)
    out.elapsed_ms = int((time.monotonic() - started) * 1000)
    return out


@dataclass
class TlsResult:
    tcp: str = "not-run"  # connected, refused, timeout, error
    tls: str = "not-run"  # verified, name-mismatch, untrusted, closed, timeout, error
    detail: str = ""
    version: str | None = None
    cipher: str | None = None
    subject: str | None = None
    issuer: str | None = None
    names: list = field(default_factory=list)  # DNS names the certificate presents
    tcp_ms: int = 0
    tls_ms: int = 0
    gateway: dict | None = None  # emulator: the gateway's answer to a hello with a key no cluster has

    def to_dict(self) -> dict:
        return {"tcp": self.tcp, "tls": self.tls, "detail": self.detail, "version": self.version,
                "cipher": self.cipher, "subject": self.subject, "issuer": self.issuer, "names": list(self.names),
                "tcpMs": self.tcp_ms, "tlsMs": self.tls_ms, "gateway": self.gateway}


def tls_context(cafile: str | None) -> ssl.SSLContext:
    """Verify against ``cafile`` (the emulator CA) or the system trust store."""
    ctx = ssl.create_default_context()
    if cafile:
        ctx.load_verify_locations(cafile=cafile)
    ctx.check_hostname = True
    return ctx


def _unverified_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def _connect(host: str, port: int, proxy: tuple[str, str] | None, timeout: float):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    if proxy is not None:
        writer.write(wire.encode_proxy_v2(proxy[0], proxy[1], dst_port=443))
        await asyncio.wait_for(writer.drain(), timeout)
    return reader, writer


def _close(writer) -> None:
    try:
        writer.transport.abort()
    except Exception:  # noqa: BLE001 - closing a broken transport must not fail the probe
        pass


def _names_of(cert: dict) -> list[str]:
    return [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]


def _matches(pattern: str, name: str) -> bool:
    p, n = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if p.startswith("*."):
        return n.count(".") == p.count(".") and n.endswith(p[1:])
    return p == n


def _rdn(seq) -> str:
    return ", ".join(f"{k}={v}" for rdn in seq or () for k, v in rdn)


async def tcp_tls_probe(host: str, port: int, sni: str, timeout: float, *, cafile: str | None = None,
                        proxy: tuple[str, str] | None = None, tls: bool = True, hello: bool = False) -> TlsResult:
    """TCP connect to ``host:port`` (+ PROXY v2 header with ``proxy`` = (src, dst)), then TLS with SNI.

    The certificate must chain to ``cafile`` (or the system store) and name ``sni``. When it
    does not, a second, unverified handshake reads the names it does present, for the evidence.
    """
    out = TlsResult()
    started = time.monotonic()
    try:
        reader, writer = await _connect(host, port, proxy, timeout)
    except (asyncio.TimeoutError, TimeoutError):
        out.tcp, out.detail = "timeout", f"no TCP answer from {host}:{port} within {timeout:g} s"
        return out
    except ConnectionRefusedError:
        out.tcp, out.detail = "refused", f"{host}:{port} refused the connection"
        return out
    except OSError as exc:
        out.tcp, out.detail = "error", f"{host}:{port}: {exc.strerror or exc}"
        return out
    out.tcp = "connected"
    out.tcp_ms = int((time.monotonic() - started) * 1000)
    if not tls:
        _close(writer)
        return out
    started = time.monotonic()
    try:
        await asyncio.wait_for(writer.start_tls(tls_context(cafile), server_hostname=sni), timeout)
        sslobj = writer.get_extra_info("ssl_object")
        cert = sslobj.getpeercert() or {}
        out.tls, out.version = "verified", sslobj.version()
        out.cipher = (sslobj.cipher() or (None,))[0]
        out.subject, out.issuer, out.names = _rdn(cert.get("subject")), _rdn(cert.get("issuer")), _names_of(cert)
        matched = next((n for n in out.names if _matches(n, sni)), out.subject)
        out.detail = f"{out.version}, certificate valid for {sni} (as {matched}), issued by {out.issuer}"
        if hello:
            out.gateway = await _gateway_hello(reader, writer, sni, timeout)
    except ssl.SSLCertVerificationError as exc:
        mismatch = exc.verify_code == 62 or "mismatch" in (exc.verify_message or "").lower()
        out.tls = "name-mismatch" if mismatch else "untrusted"
        out.detail = exc.verify_message or str(exc)
        await _read_presented(out, host, port, sni, proxy, timeout)
    except (asyncio.TimeoutError, TimeoutError):
        out.tls, out.detail = "timeout", f"no TLS handshake within {timeout:g} s"
    except (ssl.SSLError, ConnectionError, EOFError, OSError) as exc:
        out.tls = "closed"
        out.detail = f"the TLS handshake failed: {getattr(exc, 'reason', None) or exc or type(exc).__name__}"
    finally:
        out.tls_ms = int((time.monotonic() - started) * 1000)
        _close(writer)
    return out


_KEY = []


def _throwaway_key():
    """One P-256 key per process: the doctor is no cluster, it only asks the gateway for its verdict."""
    if not _KEY:
        _KEY.append(pki.new_agent_key("ec"))
    return _KEY[0]


async def _gateway_hello(reader, writer, sni: str, timeout: float) -> dict:
    """The emulator gateway's handshake (model.wire) with a key no cluster has.

    The gateway decides route, firewall and approval before it looks at the key, so its answer
    tells whether the modelled network lets the connection through: ``ClusterNotRegistered``
    means it does; ``NoRouteToPrivateEndpoint``, ``BlockedByFirewall``... mean it does not.
    """
    try:
        hello = pki.signed_hello(_throwaway_key(), sni, "arclink-doctor")
        writer.write(json.dumps(hello).encode() + b"\n")
        await asyncio.wait_for(writer.drain(), timeout)
        msg = json.loads(await asyncio.wait_for(reader.readline(), timeout) or b"null")
    except (asyncio.TimeoutError, TimeoutError):
        return {"type": "timeout", "code": None, "reason": f"no answer from the gateway within {timeout:g} s"}
    except (OSError, ValueError, ssl.SSLError) as exc:
        return {"type": "error", "code": None, "reason": str(exc) or type(exc).__name__}
    if not isinstance(msg, dict):
        return {"type": "closed", "code": None, "reason": "the gateway closed the connection"}
    return {"type": msg.get("type"), "code": msg.get("code"), "reason": msg.get("reason")}


async def _read_presented(out: TlsResult, host: str, port: int, sni: str, proxy, timeout: float) -> None:
    """Fill subject/issuer/names from an unverified handshake (evidence for a failed check)."""
    try:
        reader, writer = await _connect(host, port, proxy, timeout)
        try:
            await asyncio.wait_for(writer.start_tls(_unverified_context(), server_hostname=sni), timeout)
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        finally:
            _close(writer)
    except (OSError, ssl.SSLError, asyncio.TimeoutError, EOFError):
        return
    if not der:
        return
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    out.subject, out.issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
    try:
        out.names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        out.names = []


def parse_server(value: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or ``IPv6`` -> (ip, port). ValueError when malformed."""
    v = value.strip()
    host, port = v, 53
    if v.startswith("["):
        host, _, rest = v[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(value)
            port = int(rest[1:])
    elif v.count(":") == 1:
        host, p = v.split(":")
        port = int(p)
    socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    if not 0 < port < 65536:
        raise ValueError(value)
    return host, port
