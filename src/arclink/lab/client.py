"""Clients in a running lab: sockets in a site's namespace, bound to a node's own address.

``arclink connect --lab`` and ``arclink agent run --lab`` use these: the agent then resolves
through the site's DNS server (the one its namespace resolv.conf names) and dials the private
endpoint's or public endpoint's address itself, through the site's routes and firewall.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from arclink.lab import netns
from arclink.lab.runtime import ETC_NETNS, LabError, lab_dir, read_record

CONNECT_TIMEOUT = 5.0  # seconds for a TCP connect from the site, as a client's connect timeout


@dataclass
class SiteClient:
    lab: str
    ns: str
    dns_server: str
    endpoints_path: Path
    arm_url: str | None = None  # ARM on its public lab address, reached by name from the site

    def lookup(self, name: str, source: str | None = None, timeout: float = 5.0) -> list[str]:
        """A records of ``name`` from the site's DNS server, asked from ``source`` in the site."""
        import dns.message
        import dns.query
        import dns.exception
        import dns.rcode
        import dns.rdatatype

        with self.open_socket(socket.SOCK_DGRAM, source) as sock:
            sock.settimeout(timeout)
            try:
                answer = dns.query.udp(dns.message.make_query(name, "A"), self.dns_server, timeout=timeout, sock=sock)
            except dns.exception.Timeout:
                raise OSError(f"the site's DNS server {self.dns_server} did not answer for {name}") from None
        found = [rd.address for rr in answer.answer if rr.rdtype == dns.rdatatype.A for rd in rr]
        if not found:
            raise OSError(f"{name} does not resolve from the site ({dns.rcode.to_text(answer.rcode())})")
        return found

    def dial(self, host: str, port: int, timeout: float | None, source: str | None = None) -> socket.socket:
        """A TCP connection from the site to ``host`` (resolved by the site's DNS server), like any client there."""
        sock = self.open_socket(socket.SOCK_STREAM, source)
        try:
            # a dropped packet (the site's firewall) times out the connect, as for any client there
            sock.settimeout(min(timeout, CONNECT_TIMEOUT) if timeout else CONNECT_TIMEOUT)
            sock.connect((self.lookup(host, source)[0], port))
            sock.settimeout(timeout)
        except BaseException:
            sock.close()
            raise
        return sock

    def open_socket(self, kind: int, source: str | None) -> socket.socket:
        """A socket in the site's namespace, bound to ``source`` (a node address of the site)."""
        with netns.inside(self.ns):
            sock = socket.socket(socket.AF_INET, kind)
        try:
            if source:
                sock.bind((source, 0))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"address {source} is not in the lab's site namespace {self.ns}") from None
        return sock


def site_client(lab: str, site: str) -> SiteClient:
    """The lab ``lab``'s site ``site``: its namespace, its DNS server, the lab emulator's endpoints."""
    rec = read_record(lab)
    if rec is None or not rec.get("ready"):
        raise LabError(f"no lab named '{lab}' is up; start it with 'arclink lab up TOPOLOGY --name {lab}'.", 2)
    ns = next((n for s, n in rec.get("sites", {}).items() if s.lower() == site.lower()), None)
    if ns is None:
        raise LabError(f"site '{site}' is not in lab '{lab}' (sites: {', '.join(rec.get('sites', {})) or 'none'}).", 2)
    return SiteClient(lab, ns, resolv_conf_server(ns, site), lab_dir(lab) / "emulator" / "endpoints.json",
                      (rec.get("arm") or {}).get("url"))


def resolv_conf_server(ns: str, site: str) -> str:
    try:
        text = (ETC_NETNS / ns / "resolv.conf").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            return parts[1]
    raise LabError(f"site '{site}' has no DNS server in the lab (no {ETC_NETNS / ns / 'resolv.conf'}); "
                   "give the site a 'dns' server in the topology.", 2)
