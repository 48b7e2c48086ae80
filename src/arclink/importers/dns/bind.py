"""BIND 9 ``named.conf``: a tokenizer and a recursive-descent parser of its grammar.

    config     := statement*
    statement  := word argument* [ "{" statement* "}" ] ";"
    argument   := word | quoted string

Comments are ``//``, ``#`` and ``/* */``. ``include "file";`` is read in place (a path that is not
there is looked up beside the including file, for configurations copied off their server).
Zone files are read by dnspython. Read: ``options`` (``listen-on``, ``forwarders``), zones of type
``forward``, ``primary``/``master`` (with ``file``), ``stub``/``static-stub``, and ``view``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arclink.importers.dns.common import BUILTIN_ZONES, Found, beside, load_zone_file, read_config, target, zone_name
from arclink.importers.errors import ImportFailure, at


@dataclass
class Token:
    text: str
    line: int
    quoted: bool = False


@dataclass
class Statement:
    words: list[Token]
    block: list[Statement] | None
    file: Path
    line: int

    @property
    def keyword(self) -> str:
        return self.words[0].text.lower()

    def arg(self, i: int) -> str | None:
        return self.words[i].text if len(self.words) > i else None

    def find(self, keyword: str) -> Statement | None:
        return next((s for s in self.block or [] if s.keyword == keyword), None)


def tokenize(text: str, file: Path) -> list[Token]:
    out: list[Token] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#" or text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise at(str(file), line, "a '/*' comment is never closed with '*/'.")
            line += text.count("\n", i, end)
            i = end + 2
        elif c in "{};":
            out.append(Token(c, line))
            i += 1
        elif c == '"':
            end = i + 1
            while end < n and text[end] != '"':
                if text[end] == "\n":
                    raise at(str(file), line, "a quoted string runs past the end of the line; expected '\"'.")
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                raise at(str(file), line, "a quoted string is never closed; expected '\"'.")
            out.append(Token(text[i + 1:end], line, quoted=True))
            i = end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in '{};"' and not text.startswith("//", i) \
                    and text[i] != "#":
                i += 1
            out.append(Token(text[start:i], line))
    return out


class Parser:
    def __init__(self, tokens: list[Token], file: Path) -> None:
        self.t, self.i, self.file = tokens, 0, file

    def expected(self, what: str) -> ImportFailure:
        tok = self.t[self.i] if self.i < len(self.t) else None
        line = tok.line if tok else (self.t[-1].line if self.t else 1)
        got = f"'{tok.text}'" if tok else "the end of the file"
        return at(str(self.file), line, f"expected {what}, found {got}.")

    def statements(self, closing: bool) -> list[Statement]:
        out: list[Statement] = []
        while self.i < len(self.t):
            tok = self.t[self.i]
            if tok.text == "}" and not tok.quoted:
                if not closing:
                    raise self.expected("a statement")
                return out
            out.append(self.statement())
        if closing:
            raise self.expected("'}' closing the block")
        return out

    def statement(self) -> Statement:
        words: list[Token] = []
        first = self.t[self.i]
        while self.i < len(self.t) and (self.t[self.i].quoted or self.t[self.i].text not in "{};"):
            words.append(self.t[self.i])
            self.i += 1
        if not words:
            raise self.expected("a statement name")
        block = None
        if self.i < len(self.t) and self.t[self.i].text == "{" and not self.t[self.i].quoted:
            self.i += 1
            block = self.statements(closing=True)
            self.i += 1  # the "}"
        if self.i >= len(self.t) or self.t[self.i].text != ";" or self.t[self.i].quoted:
            raise self.expected(f"';' after the '{words[0].text}' statement")
        self.i += 1
        return Statement(words, block, self.file, first.line)


def parse_file(path: Path, depth: int = 0) -> list[Statement]:
    """The statements of ``path`` with every ``include`` read in place."""
    text = read_config(path, depth)
    out: list[Statement] = []
    for st in Parser(tokenize(text, path), path).statements(closing=False):
        if st.keyword == "include":
            inc = st.arg(1)
            if not inc:
                raise at(str(path), st.line, "expected a file name after 'include'.")
            out += parse_file(beside(Path(inc), path, st.line, what="the included file "), depth + 1)
        else:
            out.append(st)
    return out


# Top-level statements that do not change what the site's server answers.
_IGNORED = {"acl", "key", "controls", "logging", "server", "masters", "primaries", "trusted-keys", "managed-keys",
            "trust-anchors", "statistics-channels", "key-store", "tls", "http", "dnssec-policy", "plugin",
            "remote-servers", "parental-agents"}


def read(path: str, view: str | None = None) -> Found:
    top = parse_file(Path(path))
    found = Found()
    views = [s for s in top if s.keyword == "view"]
    chosen = None
    if views:
        names = [s.arg(1) or "" for s in views]
        if view is not None:
            chosen = next((s for s in views if (s.arg(1) or "").lower() == view.lower()), None)
            if chosen is None:
                raise ImportFailure(f"{path}: no view named '{view}' (views: {', '.join(names)}).")
        else:
            chosen = views[0]
            if len(views) > 1:
                found.note(chosen.file, chosen.line, f"{len(views)} views ({', '.join(names)}); the site model has "
                                                     f"one server, so view '{names[0]}' is read (--view picks another)")
    elif view is not None:
        raise ImportFailure(f"{path}: the configuration has no views; leave out --view.")
    for st in top:
        if st.keyword == "options":
            _options(st, found)
        elif st.keyword == "zone":
            _zone(st, found, top)
        elif st.keyword == "view":
            if st is chosen:
                for inner in st.block or []:
                    if inner.keyword == "zone":
                        _zone(inner, found, top)
                    elif inner.keyword in ("forwarders", "forward", "match-clients", "match-destinations",
                                           "recursion") or inner.keyword in _IGNORED:
                        if inner.keyword == "forwarders":
                            _upstream(inner, found, top)
                    else:
                        found.note(inner.file, inner.line, f"'{inner.keyword}' in view '{st.arg(1)}' is not read")
        elif st.keyword not in _IGNORED:
            found.note(st.file, st.line, f"unsupported statement '{st.keyword}' (left out)")
    return found


def _addresses(st: Statement | None) -> list[tuple[str, int]]:
    """(text, line) of each element in an address list block, with ``port N`` joined on."""
    out: list[tuple[str, int]] = []
    for el in (st.block or []) if st else []:
        words = [w.text for w in el.words]
        if len(words) >= 3 and words[1].lower() == "port":
            out.append((f"{words[0]}#{words[2]}", el.line))
        elif words:
            out.append((words[0], el.line))
    return out


def _options(st: Statement, found: Found) -> None:
    for inner in st.block or []:
        if inner.keyword == "listen-on" and inner.block is not None:
            for text, _ in _addresses(inner):
                found.listen(text)
        elif inner.keyword == "forwarders":
            _upstream(inner, found, [])


def _upstream(st: Statement, found: Found, top: list[Statement]) -> None:
    targets = [t for text, line in _addresses(st) if (t := target(text, st.file, line, found, port_sep="#"))]
    if targets:
        found.forward(".", targets)


def _zone(st: Statement, found: Found, top: list[Statement]) -> None:
    name = st.arg(1)
    if not name:
        raise at(str(st.file), st.line, "expected a zone name after 'zone'.")
    ztype = st.find("type")
    kind = (ztype.arg(1) or "").lower() if ztype else ""
    z = zone_name(name)
    if kind == "forward":
        targets = [t for text, line in _addresses(st.find("forwarders"))
                   if (t := target(text, st.file, line, found, port_sep="#"))]
        found.forward(z, targets)
        mode = st.find("forward")
        if mode is not None and (mode.arg(1) or "").lower() == "first":
            found.note(st.file, mode.line, f"zone '{z}' forwards first (falls back to recursion); the site model "
                                           "forwards only")
    elif kind in ("primary", "master"):
        if z in BUILTIN_ZONES:
            return
        f = st.find("file")
        if f is None or not f.arg(1):
            found.note(st.file, st.line, f"primary zone '{z}' names no file (left out)")
            found.host_zone(z)
            return
        load_zone_file(_zone_path(f.arg(1) or "", st), z, found, st.file, f.line)
    elif kind in ("stub", "static-stub"):
        servers = st.find("masters") or st.find("primaries") or st.find("server-addresses")
        found.forward(z, [t for text, line in _addresses(servers)
                          if (t := target(text, st.file, line, found, port_sep="#"))])
        found.note(st.file, st.line, f"{kind} zone '{z}' is read as a conditional forwarder to its servers")
    elif kind == "hint" or z in BUILTIN_ZONES:
        return
    else:
        found.note(st.file, st.line, f"zone '{z}' of type '{kind or 'none'}' is not in the site model (left out)")


def _zone_path(name: str, st: Statement) -> Path:
    p = Path(name)
    if p.is_absolute() and p.exists():
        return p
    # relative to 'directory' on the server; copied configurations keep zone files beside them
    for candidate in (st.file.parent / p.name, st.file.parent / p):
        if candidate.exists():
            return candidate
    return p if p.is_absolute() else st.file.parent / p
