"""dnsmasq configuration: one option a line, ``name`` or ``name=value``; ``#`` starts a comment.

The values that carry the site's DNS have their own small grammars, parsed field by field:

    server   := ["/" domain ("/" domain)* "/"] [address ["#" port] ["@" source]]
    address  := "/" domain ("/" domain)* "/" [ip]
    host-record := name ("," name)* "," ip ["," ipv6] ["," ttl]

``conf-file=`` and ``conf-dir=`` are read in place.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from arclink.importers.dns.common import Found, beside, read_config, target, zone_name
from arclink.importers.errors import at

# Options that do not change which names the server answers or where it sends them.
_IGNORED = {
    "port", "interface", "except-interface", "bind-interfaces", "bind-dynamic", "no-dhcp-interface", "user", "group",
    "pid-file", "domain-needed", "bogus-priv", "strict-order", "all-servers", "cache-size", "no-negcache",
    "log-queries", "log-facility", "log-async", "filterwin2k", "expand-hosts", "domain", "local-ttl", "neg-ttl",
    "max-ttl", "min-cache-ttl", "dnssec", "trust-anchor", "dnssec-check-unsigned", "no-poll", "resolv-file",
    "no-resolv", "stop-dns-rebind", "rebind-localhost-ok", "rebind-domain-ok", "edns-packet-max", "query-port",
    "min-port", "max-port", "no-ping", "keep-in-foreground", "no-daemon", "conf-script", "enable-tftp", "tftp-root",
    "clear-on-reload", "localise-queries", "dns-loop-detect", "no-round-robin", "dns-forward-max", "listen-address",
}


def _lines(path: Path, depth: int = 0) -> list[tuple[Path, int, str, str | None]]:
    text = read_config(path, depth, includes="conf-file includes")
    out: list[tuple[Path, int, str, str | None]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, eq, value = line.partition("=")
        name = name.strip().lower()
        if not name or any(c.isspace() for c in name):
            raise at(str(path), lineno, f"expected 'option' or 'option=value', found '{line}'.")
        val = value.strip() if eq else None
        if name == "conf-file" and val:
            out += _lines(beside(Path(val), path, lineno), depth + 1)
        elif name == "conf-dir" and val:
            d, _, exts = val.partition(",")
            dirpath = beside(Path(d), path, lineno)
            for f in sorted(dirpath.iterdir()):
                if f.is_file() and not f.name.startswith(".") and not f.name.endswith("~"):
                    out += _lines(f, depth + 1)
        else:
            out.append((path, lineno, name, val))
    return out


def read(path: str) -> Found:
    found = Found()
    upstream: list[str] = []
    for file, line, name, value in _lines(Path(path)):
        if name == "listen-address" and value:
            for a in value.split(","):
                found.listen(a.strip())
        elif name in ("server", "local", "rev-server"):
            if name == "rev-server":
                found.note(file, line, "rev-server is not in the site model (left out)")
                continue
            _server(file, line, name, value or "", found, upstream)
        elif name == "address":
            _address(file, line, value or "", found)
        elif name == "host-record":
            _host_record(file, line, value or "", found)
        elif name in ("cname",):
            parts = [p.strip() for p in (value or "").split(",")]
            if len(parts) < 2:
                raise at(str(file), line, "expected 'cname=<alias>,<target>'.")
            for alias in parts[:-1]:
                if not alias.isdigit():
                    found.record(alias, "CNAME", None, parts[-1])
        elif name in ("addn-hosts", "hostsdir", "servers-file"):
            found.note(file, line, f"'{name}={value}' reads another file; its entries are not read")
        elif name.startswith("dhcp") or name in _IGNORED:
            continue
        else:
            found.note(file, line, f"unsupported option '{name}' (left out)")
    if upstream:
        found.forward(".", upstream)
    return found


def _domains(spec: str, file: Path, line: int, option: str) -> tuple[list[str], str]:
    """``/a/b/rest`` -> (["a", "b"], "rest"); a value without a leading '/' has no domains."""
    if not spec.startswith("/"):
        return [], spec
    body = spec[1:]
    if "/" not in body:
        raise at(str(file), line, f"expected '/' closing the domain list in {option}={spec}.")
    doms, _, rest = body.rpartition("/")
    return [d for d in doms.split("/")], rest


def _server(file: Path, line: int, name: str, value: str, found: Found, upstream: list[str]) -> None:
    doms, rest = _domains(value, file, line, name)
    addr = rest.split("@", 1)[0]
    if name == "local" or (doms and addr == ""):
        for d in doms:  # answered only from local data
            found.host_zone(d)
        return
    if addr == "#":
        found.note(file, line, f"{name}={value}: '#' sends to the default servers (left out)")
        return
    t = target(addr, file, line, found, port_sep="#")
    if t is None:
        return
    if not doms:
        upstream.append(t)
    for d in doms:
        if d in ("", "#"):
            found.note(file, line, f"{name}={value}: an empty or '#' domain is not in the site model")
            continue
        found.forward(d, [t])


def _address(file: Path, line: int, value: str, found: Found) -> None:
    doms, ip = _domains(value, file, line, "address")
    if not doms:
        raise at(str(file), line, f"expected 'address=/domain/[ip]', found 'address={value}'.")
    if ip == "" or ip == "#":
        found.note(file, line, f"address={value} answers NXDOMAIN or 0.0.0.0 for the whole domain; read as hosted "
                               "zone(s)")
        for d in doms:
            found.host_zone(d)
        return
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        raise at(str(file), line, f"expected an IP address after the domains in address={value}.") from None
    for d in doms:
        if addr.version == 4:
            found.record(d, "A", None, str(addr))
        else:
            found.note(file, line, f"address={value}: an IPv6 answer is not in the site model")
        found.note(file, line, f"address=/{d}/ also answers every name under {zone_name(d)}; read as one record")


def _host_record(file: Path, line: int, value: str, found: Found) -> None:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    names, addrs, ttl = [], [], None
    for p in parts:
        try:
            addrs.append(ipaddress.ip_address(p))
            continue
        except ValueError:
            pass
        if p.isdigit() and addrs:
            ttl = int(p)
        else:
            names.append(p)
    if not names or not addrs:
        raise at(str(file), line, f"expected 'host-record=<name>[,<name>...],<ip>[,<ttl>]', found '{value}'.")
    for n in names:
        for a in addrs:
            if a.version == 4:
                found.record(n, "A", ttl, str(a))
            else:
                found.note(file, line, f"host-record {n}: the IPv6 address {a} is not in the site model")
