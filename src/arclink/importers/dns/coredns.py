"""CoreDNS ``Corefile``: server blocks of plugin lines (the Caddyfile grammar).

    corefile  := (snippet | server)*
    snippet   := "(" name ")" block
    server    := key+ block                      key: zone[:port], dns://zone:port, ...
    block     := "{" line* "}"
    line      := word+ [block] NEWLINE           (a plugin and its arguments; "import name" pastes a snippet)

``#`` starts a comment; a quoted string is one word. Read: ``bind``, ``forward`` (a server block
for a zone forwarding ``.`` is a conditional forwarder; the root block's forward is the upstream),
``hosts`` (inline entries; a file is read too) and ``file`` (a zone file, by dnspython).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from arclink.importers.dns.common import Found, load_zone_file, read_config, target, zone_name
from arclink.importers.errors import ImportFailure, at

# Plugins that do not change which names are answered or where they go.
_IGNORED = {"errors", "log", "cache", "health", "ready", "reload", "loop", "loadbalance", "prometheus", "whoami",
            "debug", "pprof", "root", "any", "minimal", "nsid", "chaos", "bufsize", "cancel", "timeouts", "trace",
            "dnssec", "metadata", "local", "acl", "header"}


@dataclass
class Line:
    words: list[str]
    line: int
    block: list[Line] | None = None


@dataclass
class Server:
    keys: list[str]
    line: int
    body: list[Line] = field(default_factory=list)


def tokenize(text: str, file: Path) -> list[tuple[str, int]]:
    """Words, "{", "}" and "\\n" with their lines."""
    out: list[tuple[str, int]] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            out.append(("\n", line))
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise at(str(file), line, "a quoted string is never closed; expected '\"'.")
            out.append((text[i + 1:end], line))
            line += text.count("\n", i, end)
            i = end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] != '"':
                i += 1
            word = text[start:i]
            if word in ("{", "}"):
                out.append((word, line))
            elif word.endswith("{") and len(word) > 1:
                out += [(word[:-1], line), ("{", line)]
            else:
                out.append((word, line))
    return out


class Parser:
    def __init__(self, tokens: list[tuple[str, int]], file: Path) -> None:
        self.t, self.i, self.file = tokens, 0, file

    def peek(self) -> str | None:
        return self.t[self.i][0] if self.i < len(self.t) else None

    def line(self) -> int:
        return self.t[min(self.i, len(self.t) - 1)][1] if self.t else 1

    def expected(self, what: str) -> ImportFailure:
        got = self.peek()
        shown = "the end of the file" if got is None else ("the end of the line" if got == "\n" else f"'{got}'")
        return at(str(self.file), self.line(), f"expected {what}, found {shown}.")

    def skip_newlines(self) -> None:
        while self.peek() == "\n":
            self.i += 1

    def corefile(self) -> tuple[list[Server], dict[str, list[Line]]]:
        servers: list[Server] = []
        snippets: dict[str, list[Line]] = {}
        self.skip_newlines()
        while self.peek() is not None:
            start = self.line()
            keys: list[str] = []
            while self.peek() not in (None, "{", "}", "\n"):
                keys.append(self.t[self.i][0])
                self.i += 1
            if not keys:
                raise self.expected("a server block's zone (for example '.:53')")
            self.skip_newlines()
            if self.peek() != "{":
                raise self.expected(f"'{{' opening the block of '{' '.join(keys)}'")
            self.i += 1
            body = self.lines()
            if len(keys) == 1 and keys[0].startswith("(") and keys[0].endswith(")"):
                snippets[keys[0][1:-1]] = body
            else:
                servers.append(Server(keys, start, body))
            self.skip_newlines()
        return servers, snippets

    def lines(self) -> list[Line]:
        out: list[Line] = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if tok is None:
                raise self.expected("'}' closing the block")
            if tok == "}":
                self.i += 1
                return out
            start = self.line()
            words: list[str] = []
            while self.peek() not in (None, "{", "}", "\n"):
                words.append(self.t[self.i][0])
                self.i += 1
            block = None
            if self.peek() == "{":
                self.i += 1
                block = self.lines()
            if not words:
                raise at(str(self.file), start, "expected a plugin name before '{'.")
            out.append(Line(words, start, block))


def read(path: str) -> Found:
    p = Path(path)
    text = read_config(p)
    servers, snippets = Parser(tokenize(text, p), p).corefile()
    found = Found()
    falling: set[str] = set()  # zones whose hosts entries fall through to the block's forward
    for s in servers:
        body = _expand(s.body, snippets, p)
        zones = [_key_zone(k) for k in s.keys]
        for ln in body:
            _plugin(ln, zones, found, p)
            if ln.words[0].lower() == "hosts" and any(i.words[0] == "fallthrough" for i in ln.block or []):
                falling.update(zones)
    for z in falling:
        # the rest of a zone with local names goes where everything else goes: not a conditional forwarder
        if found.forwarders.get(z) in ([], [found.upstream]):
            del found.forwarders[z]
    return found


def _expand(body: list[Line], snippets: dict[str, list[Line]], p: Path, depth: int = 0) -> list[Line]:
    out: list[Line] = []
    for ln in body:
        if ln.words[0] == "import":
            name = ln.words[1] if len(ln.words) > 1 else ""
            if name not in snippets:
                raise at(str(p), ln.line, f"expected the name of a snippet defined as '({name}) {{ ... }}' after "
                                          "'import' (importing files is not read).")
            if depth > 16:
                raise at(str(p), ln.line, "snippets import each other more than 16 deep.")
            out += _expand(snippets[name], snippets, p, depth + 1)
        else:
            out.append(ln)
    return out


def _key_zone(key: str) -> str:
    k = key.split("://", 1)[-1]
    if k.startswith("["):
        return "."
    host = k.rsplit(":", 1)[0] if ":" in k else k
    return zone_name(host or ".")


def _plugin(ln: Line, zones: list[str], found: Found, p: Path) -> None:
    name, args = ln.words[0].lower(), ln.words[1:]
    if name == "bind":
        for a in args:
            found.listen(a)
    elif name == "forward":
        if len(args) < 2:
            raise at(str(p), ln.line, "expected 'forward FROM TO...'.")
        frm = zone_name(args[0])
        targets: list[str] = []
        internet = False
        for t in args[1:]:
            if t.startswith("/") or t.endswith("resolv.conf"):
                internet = True  # the host's own resolvers: the site's normal recursion
                continue
            if t.startswith(("tls://", "https://")):
                found.note(p, ln.line, f"forward to {t}: encrypted upstreams are not in the site model (left out)")
                continue
            ip = target(t.split("://", 1)[-1], p, ln.line, found, port_sep=":")
            if ip:
                targets.append(ip)
        applies = [frm] if frm != "." else zones
        for z in applies:
            if z == "." and internet and not targets:
                continue
            found.forward(z, targets)
    elif name == "hosts":
        _hosts(ln, zones, found, p)
    elif name == "file":
        if not args:
            raise at(str(p), ln.line, "expected 'file DBFILE [ZONES...]'.")
        db = Path(args[0]) if Path(args[0]).is_absolute() else p.parent / args[0]
        for z in (args[1:] or zones):
            load_zone_file(db if db.exists() else p.parent / Path(args[0]).name, z, found, p, ln.line)
    elif name not in _IGNORED:
        found.note(p, ln.line, f"unsupported plugin '{name}' (left out)")


def _hosts(ln: Line, zones: list[str], found: Found, p: Path) -> None:
    args = ln.words[1:]
    ttl = 3600
    entries: list[tuple[list[str], int]] = []
    fallthrough = False
    for inner in ln.block or []:
        w = inner.words
        if w[0] == "ttl" and len(w) == 2 and w[1].isdigit():
            ttl = int(w[1])
        elif w[0] == "fallthrough":
            fallthrough = True
        elif w[0] in ("no_reverse", "reload"):
            continue
        else:
            entries.append((w, inner.line))
    if args:
        found.note(p, ln.line, f"hosts file {args[0]}: entries in the file itself are not read, only inline ones")
    for words, line in entries:
        if len(words) < 2:
            raise at(str(p), line, f"expected 'ADDRESS NAME...' in the hosts block, found '{' '.join(words)}'.")
        ip = target(words[0], p, line, found)
        if ip is None:
            continue
        for n in words[1:]:
            if ":" in ip:
                found.note(p, line, f"{n}: the IPv6 address {ip} is not in the site model")
            else:
                found.record(n, "A", ttl, ip)
    if not fallthrough:
        for z in zones:
            if z != ".":
                found.host_zone(z)
