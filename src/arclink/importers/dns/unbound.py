"""Unbound ``unbound.conf``: clauses of ``name: value`` attributes.

    config    := (clause | attribute | include)*
    clause    := clause-name ":"                 (server, forward-zone, stub-zone, ...)
    attribute := name ":" value                  (value: one word or a quoted string, to the end of line)

An attribute belongs to the clause above it; ``include:`` reads files in place (globs allowed).
Read: ``server:`` ``interface``/``local-zone``/``local-data``, ``forward-zone`` and ``stub-zone``.
"""

from __future__ import annotations

import glob
import shlex
from dataclasses import dataclass
from pathlib import Path

from arclink.importers.dns.common import BUILTIN_ZONES, Found, read_config, target, zone_name
from arclink.importers.errors import at

CLAUSES = {"server", "forward-zone", "stub-zone", "auth-zone", "view", "remote-control", "python", "dynlib",
           "dnscrypt", "cachedb", "redis", "dnstap", "rpz"}
# local-zone types after which the server answers the whole zone itself
HOSTING = {"static", "refuse", "deny", "always_nxdomain", "always_refuse", "always_null", "noview", "nodefault"}


@dataclass
class Attr:
    clause: str
    name: str
    value: str
    file: Path
    line: int


def parse_file(path: Path, depth: int = 0, clause: str = "server") -> tuple[list[Attr], str]:
    text = read_config(path, depth)
    out: list[Attr] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw, path, lineno).strip()
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or " " in name.strip():
            raise at(str(path), lineno, f"expected 'name: value' or a clause such as 'server:', found '{line}'.")
        name, value = name.strip().lower(), value.strip()
        if name in ("include", "include-toplevel"):
            pattern = _unquote(value, path, lineno)
            files = sorted(glob.glob(pattern)) or sorted(glob.glob(str(path.parent / Path(pattern).name)))
            if not files and not any(c in pattern for c in "*?["):
                raise at(str(path), lineno, f"the included file {pattern} does not exist (nor beside this file).")
            for f in files:
                more, clause = parse_file(Path(f), depth + 1, "server" if name == "include-toplevel" else clause)
                out += more
            continue
        if not value and name in CLAUSES:
            clause = name
            out.append(Attr(clause, "", "", path, lineno))  # marks where a clause starts
            continue
        if not value:
            raise at(str(path), lineno, f"expected a value after '{name}:'.")
        out.append(Attr(clause, name, value, path, lineno))
    return out, clause


def _strip_comment(raw: str, path: Path, lineno: int) -> str:
    quote = None
    for i, c in enumerate(raw):
        if c in "\"'" and quote in (None, c):
            quote = None if quote else c
        elif c == "#" and quote is None:
            return raw[:i]
    if quote:
        raise at(str(path), lineno, f"a quoted value is never closed; expected {quote}.")
    return raw


def _unquote(value: str, path: Path, lineno: int) -> str:
    """A one-word value, quoted or not."""
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise at(str(path), lineno, f"cannot read the value '{value}': {exc}.") from None
    if len(words) != 1:
        raise at(str(path), lineno, f"expected one value, found '{value}'.")
    return words[0]


def read(path: str) -> Found:
    attrs, _ = parse_file(Path(path))
    found = Found()
    zone: dict | None = None
    zones: list[dict] = []
    for a in attrs:
        if a.name == "":
            zone = {"clause": a.clause, "name": None, "targets": [], "at": a} if a.clause in ("forward-zone",
                                                                                             "stub-zone") else None
            if zone is not None:
                zones.append(zone)
            elif a.clause not in ("server", "remote-control"):
                found.note(a.file, a.line, f"clause '{a.clause}:' is not in the site model (left out)")
            continue
        if a.clause == "server":
            _server(a, found)
        elif zone is not None:
            if a.name == "name":
                zone["name"] = _unquote(a.value, a.file, a.line)
            elif a.name in ("forward-addr", "stub-addr"):
                host = _unquote(a.value, a.file, a.line).split("#", 1)[0]  # forward-addr: ip@port#tls-name
                t = target(host, a.file, a.line, found, port_sep="@")
                if t:
                    zone["targets"].append(t)
            elif a.name in ("forward-host", "stub-host"):
                found.note(a.file, a.line, f"'{a.name}: {a.value}' names a host, not an address (left out)")
            elif a.name in ("forward-tls-upstream", "forward-first", "stub-first") and "yes" in a.value.lower():
                found.note(a.file, a.line, f"'{a.name}: yes' is not in the site model")
    for z in zones:
        if not z["name"]:
            raise at(str(z["at"].file), z["at"].line, f"expected 'name:' in this {z['clause']}.")
        found.forward(z["name"], z["targets"])
        if z["clause"] == "stub-zone":
            found.note(z["at"].file, z["at"].line, f"stub-zone '{zone_name(z['name'])}' is read as a conditional "
                                                   "forwarder to its servers")
    return found


def _server(a: Attr, found: Found) -> None:
    if a.name in ("interface", "ip-address"):
        found.listen(_unquote(a.value, a.file, a.line).split("@", 1)[0])
    elif a.name == "local-zone":
        parts = _words(a)
        if len(parts) != 2:
            raise at(str(a.file), a.line, f"expected 'local-zone: <zone> <type>', found '{a.value}'.")
        z, kind = zone_name(parts[0]), parts[1].lower()
        if z in BUILTIN_ZONES:
            return
        if kind in HOSTING:
            found.host_zone(z)
        elif kind == "redirect":
            found.note(a.file, a.line, f"local-zone '{z}' redirect answers every name under it with the zone's "
                                       "data; read as a hosted zone")
            found.host_zone(z)
    elif a.name == "local-data":
        _local_data(a, found)


def _words(a: Attr) -> list[str]:
    try:
        return shlex.split(a.value)
    except ValueError as exc:
        raise at(str(a.file), a.line, f"cannot split '{a.value}': {exc}.") from None


def _local_data(a: Attr, found: Found) -> None:
    """``local-data: "name [ttl] [class] type rdata"``, read with dnspython's tokenizer."""
    import dns.exception
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.tokenizer

    tok = dns.tokenizer.Tokenizer(_unquote(a.value, a.file, a.line))
    try:
        name = tok.get_string()
        ttl = None
        word = tok.get_string()
        if word.isdigit():
            ttl, word = int(word), tok.get_string()
        if word.upper() in ("IN", "CH", "HS"):
            word = tok.get_string()
        rtype = dns.rdatatype.from_text(word)
        rd = dns.rdata.from_text(dns.rdataclass.IN, rtype, tok)
    except (dns.exception.DNSException, ValueError) as exc:
        raise at(str(a.file), a.line, f"expected a resource record ('name [ttl] [IN] type data') in local-data, "
                                      f"found '{a.value}' ({exc}).") from None
    t = dns.rdatatype.to_text(rtype)
    if zone_name(name) in BUILTIN_ZONES or zone_name(name).endswith((".localhost", ".127.in-addr.arpa")):
        return
    if t == "A":
        found.record(name, "A", ttl, rd.address)  # type: ignore[attr-defined]
    elif t == "CNAME":
        found.record(name, "CNAME", ttl, str(rd.target))  # type: ignore[attr-defined]
    else:
        found.note(a.file, a.line, f"a {t} record is not in the site model (it holds A and CNAME)")
