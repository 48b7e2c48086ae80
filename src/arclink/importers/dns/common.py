"""What every DNS configuration reader collects, and the pieces they share (targets, zone files).

A reader fills a ``Found``: the server's own address, conditional forwarders, zones it hosts,
records, where other names go, and one note per thing it read but the site model cannot hold
(each with its file and line). ``Found.site_dns()`` is the site's ``schema.SiteDns``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from arclink.importers.errors import at, read_text
from arclink.model import schema

RECORD_TTL = 3600  # what a record without its own TTL gets (the model's default for manual records)
# Zones every BIND/Unbound install hosts for itself (RFC 6761/6303): not part of a site's design.
BUILTIN_ZONES = frozenset({"localhost", "127.in-addr.arpa", "0.in-addr.arpa", "255.in-addr.arpa",
                           "1.0.0.127.in-addr.arpa"})


def zone_name(name: str) -> str:
    return name.strip().rstrip(".").lower() or "."


@dataclass
class Found:
    address: str = ""
    forwarders: dict[str, list[str]] = field(default_factory=dict)  # zone -> targets, in file order
    zones: list[str] = field(default_factory=list)
    records: list[schema.ManualRecord] = field(default_factory=list)
    upstream: str = "internet"
    notes: list[str] = field(default_factory=list)

    def note(self, file: str | Path, line: int | None, text: str) -> None:
        self.notes.append(f"{file}:{line}: {text}" if line else f"{file}: {text}")

    def listen(self, address: str) -> None:
        """The first specific address the server listens on is its address in the site."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return
        if not self.address and not ip.is_unspecified and not ip.is_loopback:
            self.address = str(ip)

    def forward(self, zone: str, targets: list[str]) -> None:
        z = zone_name(zone)
        if z == ".":
            if targets:
                self.upstream = targets[0]
            return
        have = self.forwarders.setdefault(z, [])
        have += [t for t in targets if t not in have]

    def host_zone(self, zone: str) -> None:
        z = zone_name(zone)
        if z not in self.zones:
            self.zones.append(z)

    def record(self, name: str, rtype: str, ttl: int | None, value: str) -> None:
        fqdn = zone_name(name)
        ttl = RECORD_TTL if ttl is None else ttl
        for r in self.records:
            if r.name == fqdn and r.type == rtype:
                if rtype == "A" and value not in r.addresses:
                    r.addresses.append(value)
                return
        if rtype == "A":
            self.records.append(schema.ManualRecord(name=fqdn, type="A", ttl=ttl, addresses=[value]))
        else:
            self.records.append(schema.ManualRecord(name=fqdn, type="CNAME", ttl=ttl, cname=zone_name(value)))

    def site_dns(self) -> schema.SiteDns:
        return schema.SiteDns(address=self.address, upstream=self.upstream, zones=list(self.zones),
                              records=list(self.records),
                              conditional_forwarders=[schema.ConditionalForwarder(zone=z, targets=t)
                                                      for z, t in self.forwarders.items() if t])


def target(text: str, file: str | Path, line: int | None, found: Found, *, port_sep: str | None = None) -> str | None:
    """An upstream server ``ip``, ``ip<sep>port`` or ``[v6]:port``: the IP (a port other than 53 is noted)."""
    host, port = text.strip(), ""
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.lstrip(":")
    elif port_sep and port_sep in host and (port_sep != ":" or host.count(":") == 1):
        host, _, port = host.rpartition(port_sep)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        found.note(file, line, f"'{text}' is not an IP address; the site model forwards to addresses only "
                               "(left out)")
        return None
    if port and port != "53":
        found.note(file, line, f"'{text}': port {port} is not part of the site model; kept as {ip}")
    return str(ip)


def _ends_line(path: Path, line_no: int) -> bool:
    """dnspython counts the newline ending a bad token: the problem is on the line before."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return 1 < line_no <= len(lines) + 1 and lines[line_no - 2].strip() != ""


def load_zone_file(path: Path, origin: str, found: Found, cited: str | Path, line: int | None) -> None:
    """A zone's records from its zone file (dnspython). A zone that holds nothing but its apex
    address is one name answered here (how the exports write it), so it is a record only."""
    import dns.exception
    import dns.rdatatype
    import dns.zone

    try:
        zone = dns.zone.from_file(str(path), origin=origin if origin.endswith(".") else origin + ".",
                                  relativize=False, check_origin=False)
    except FileNotFoundError:
        raise at(str(cited), line, f"the zone file {path} of zone '{origin}' does not exist; copy it beside the "
                                   "configuration.") from None
    except dns.exception.SyntaxError as exc:
        # dnspython says "file:line: problem"; its line is the one after the token when the token ends a line
        text = str(exc)
        _, _, rest = text.partition(f"{path}:")
        num, _, problem = rest.partition(": ")
        line_no = int(num) if num.isdigit() else None
        if line_no and _ends_line(path, line_no):
            line_no -= 1
        raise at(str(path), line_no, f"{problem or text.rstrip('.')}: expected a record "
                                     "('name [ttl] [class] type data') or a $ directive.") from None
    except (dns.exception.DNSException, UnicodeDecodeError) as exc:
        raise at(str(path), None, f"not a zone file: {exc}") from None
    apex = zone_name(origin)
    entries = []
    skipped: dict[str, int] = {}
    for name, node in zone.nodes.items():
        for rds in node.rdatasets:
            t = dns.rdatatype.to_text(rds.rdtype)
            if t in ("SOA", "NS"):
                continue
            for rd in rds:
                if t == "A":
                    entries.append((str(name), "A", rds.ttl, rd.address))
                elif t == "CNAME":
                    entries.append((str(name), "CNAME", rds.ttl, str(rd.target)))
                else:
                    skipped[t] = skipped.get(t, 0) + 1
    only_apex = bool(entries) and all(zone_name(n) == apex and t == "A" for n, t, _, _ in entries)
    if not only_apex:
        found.host_zone(apex)
    for n, t, ttl, v in entries:
        found.record(n, t, ttl, v)
    for t, n in sorted(skipped.items()):
        found.note(path, None, f"zone '{apex}': {n} {t} record(s) not in the site model (it holds A and CNAME)")


MAX_INCLUDE_DEPTH = 16


def read_config(path: Path, depth: int = 0, *, includes: str = "includes") -> str:
    """The text of a configuration file (``depth`` deep in includes), or one sentence naming it."""
    if depth > MAX_INCLUDE_DEPTH:
        raise at(str(path), None, f"{includes} nest more than {MAX_INCLUDE_DEPTH} deep (an include loop?).")
    return read_text(path)


def beside(p: Path, including: Path, line: int, *, what: str = "") -> Path:
    """An included file: as named (relative to the including file), else the same name beside it.

    Configurations copied off a server name absolute paths of that server; beside is where they
    usually are when someone hands them over."""
    if not p.is_absolute():
        p = including.parent / p
    if p.exists():
        return p
    alt = including.parent / p.name
    if alt.exists():
        return alt
    raise at(str(including), line, f"{what}{p} does not exist (nor beside this file).")
