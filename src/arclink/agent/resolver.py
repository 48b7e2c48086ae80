"""How an agent resolves the Arc names: as its site would, through the emulator's DNS server.

The query carries an EDNS Client Subnet option with the agent's modelled node address
(/32), which the emulator's DNS server trusts from loopback and answers as the site's
DNS chain would. ``ModelResolver`` asks ``arclink.model.resolve`` directly, for a
gateway run without the DNS server (tests of the gateway alone, ``explain``-like use).
"""

from __future__ import annotations

import ipaddress

import dns.asyncquery
import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from arclink.net import is_loopback_address


class ResolutionFailed(Exception):
    def __init__(self, name: str, rcode: str, detail: str = ""):
        super().__init__(f"{name} does not resolve ({rcode}){': ' + detail if detail else ''}")
        self.name, self.rcode = name, rcode


class DnsResolver:
    """dnspython against the emulator's DNS server, with ECS = the agent's address."""

    def __init__(self, host: str, port: int, timeout: float = 3.0):
        if not is_loopback_address(host):
            raise ValueError("the emulator's DNS server must be on loopback")
        self.host, self.port, self.timeout = host, port, timeout

    async def resolve(self, name: str, client_address: str | None) -> list[str]:
        """A records for ``name``; like a stub resolver, asks once more after SERVFAIL or a timeout."""
        try:
            return await self._resolve(name, client_address)
        except ResolutionFailed as exc:
            if exc.rcode not in ("SERVFAIL", "TIMEOUT"):
                raise
        return await self._resolve(name, client_address)

    async def _resolve(self, name: str, client_address: str | None) -> list[str]:
        options = []
        if client_address:
            bits = 32 if ipaddress.ip_address(client_address).version == 4 else 128
            options.append(dns.edns.ECSOption(client_address, bits))
        q = dns.message.make_query(name, dns.rdatatype.A, use_edns=0, options=options)
        q.flags |= dns.flags.RD
        try:
            resp = await dns.asyncquery.udp(q, self.host, port=self.port, timeout=self.timeout)
            if resp.flags & dns.flags.TC:
                resp = await dns.asyncquery.tcp(q, self.host, port=self.port, timeout=self.timeout)
        except (dns.exception.Timeout, OSError) as exc:
            raise ResolutionFailed(name, "TIMEOUT", str(exc) or "no answer from the DNS server") from None
        return _addresses(name, resp)


def _addresses(name: str, resp: dns.message.Message) -> list[str]:
    """The A addresses of an answer, or ``ResolutionFailed`` with the rcode (NODATA for none)."""
    rcode = dns.rcode.to_text(resp.rcode())
    if rcode != "NOERROR":
        raise ResolutionFailed(name, rcode)
    addrs = [r.address for rrset in resp.answer if rrset.rdtype == dns.rdatatype.A for r in rrset]
    if not addrs:
        raise ResolutionFailed(name, "NODATA")
    return addrs


class SiteResolver:
    """A lab's site DNS server, asked as a machine of the site asks it: from the node's own address
    (``open_socket(kind, source)`` gives a socket in the site's network), with no ECS option."""

    def __init__(self, server: str, open_socket, timeout: float = 3.0):
        self.server, self.open_socket, self.timeout = server, open_socket, timeout

    async def resolve(self, name: str, client_address: str | None) -> list[str]:
        import asyncio

        return await asyncio.to_thread(self._resolve, name, client_address)

    def _resolve(self, name: str, client_address: str | None) -> list[str]:
        import socket

        import dns.query

        q = dns.message.make_query(name, dns.rdatatype.A)
        q.flags |= dns.flags.RD
        try:
            with self.open_socket(socket.SOCK_DGRAM, client_address) as sock:
                resp = dns.query.udp(q, self.server, timeout=self.timeout, sock=sock)
        except (dns.exception.Timeout, OSError) as exc:
            raise ResolutionFailed(name, "TIMEOUT", str(exc) or "no answer from the DNS server") from None
        return _addresses(name, resp)


class ModelResolver:
    """The same answers from the model, without a DNS server (gateway-only runs)."""

    def __init__(self, live):
        self.live = live

    async def resolve(self, name: str, client_address: str | None) -> list[str]:
        from arclink.model.resolve import INTERNET, view_for
        from arclink.model.trace import resolution

        _, index = self.live.snapshot()
        view = view_for(index, client_address) if client_address else INTERNET
        res = resolution(index, view, name.rstrip(".").lower())
        if res.rcode != "NOERROR":
            raise ResolutionFailed(name, res.rcode, res.steps[-1].action if res.steps else "")
        if not res.addresses:
            raise ResolutionFailed(name, "NODATA")
        return res.addresses
