"""``GET /subscriptions/{id}/resources`` and ``.../resourceGroups/{rg}/resources``: generic resources.

Rows have ARM's GenericResourceExpanded shape: id, name, type, location, tags and kind, sku,
identity, plan, managedBy where the resource has them, never ``properties``; ``$expand``
adds ``createdTime``, ``changedTime`` and ``provisioningState``. ``$filter`` is parsed with a
small grammar (OData's ``eq``, ``substringof``, ``startswith``, ``and``, ``or``, parentheses)
over the properties ARM filters on; anything else is ARM's 400 ``InvalidFilterInQueryString``,
since a filter silently ignored answers with everything and reads as a result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from arclink.arm.errors import bad_request

Row = dict[str, Any]
Pred = Callable[[Row], bool]

_FIELDS = {"resourcegroup", "resourcetype", "location", "name", "tagname", "tagvalue", "plan", "identity"}
_EXPAND = {"createdtime": "createdTime", "changedtime": "changedTime", "provisioningstate": "provisioningState"}
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_/.]*))")


def _bad(filt: str, why: str) -> Exception:
    return bad_request("InvalidFilterInQueryString", f"Invalid $filter '{filt}' specified in the query string: {why}. "
                                                     "Filter on resourceGroup, resourceType, location, name, "
                                                     "substringof('text', name), tagName and tagValue with eq, "
                                                     "joined by 'and'/'or'.")


def _tokens(filt: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(filt):
        if filt[i:].strip() == "":
            break
        m = _TOKEN.match(filt, i)
        if not m or m.end() == i:
            raise _bad(filt, f"unexpected text at position {i}")
        kind = m.lastgroup or ""
        val = m.group(kind)
        out.append((kind, val[1:-1].replace("''", "'") if kind == "str" else val))
        i = m.end()
    return out


@dataclass
class Filter:
    pred: Pred
    names_tags: bool  # a tagName/tagValue filter: ARM leaves the rows' tags out


class _Parser:
    """expr := conj ('or' conj)* ; conj := atom ('and' atom)* ;
    atom := '(' expr ')' | FIELD 'eq' STRING | ('substringof'|'startswith') '(' args ')'."""

    def __init__(self, filt: str) -> None:
        self.filt, self.toks, self.i, self.tags = filt, _tokens(filt), 0, False
        self.tag_name: str | None = None

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str, value: str | None = None) -> str:
        tok = self.peek()
        if tok is None or tok[0] != kind or (value is not None and tok[1].lower() != value):
            want = value or {"str": "a quoted string", "word": "a name", "punct": "punctuation"}[kind]
            raise _bad(self.filt, f"expected {want}" + (f", found '{tok[1]}'" if tok else " at the end"))
        self.i += 1
        return tok[1]

    def word_is(self, value: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1].lower() == value

    def parse(self) -> Filter:
        pred = self.expr()
        if self.peek() is not None:
            raise _bad(self.filt, f"unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return Filter(pred, self.tags)

    def expr(self) -> Pred:
        parts = [self.conj()]
        while self.word_is("or"):
            self.i += 1
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def conj(self) -> Pred:
        parts = [self.atom()]
        while self.word_is("and"):
            self.i += 1
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def atom(self) -> Pred:
        tok = self.peek()
        if tok == ("punct", "("):
            self.i += 1
            inner = self.expr()
            self.take("punct", ")")
            return inner
        field = self.take("word").lower()
        if field in ("substringof", "startswith"):
            return self.function(field)
        if field not in _FIELDS:
            raise _bad(self.filt, f"'{field}' is not a property resources can be filtered on")
        self.take("word", "eq")
        value = self.take("str")
        return self.equals(field, value)

    def function(self, fn: str) -> Pred:
        self.take("punct", "(")
        if fn == "substringof":  # substringof('text', name)
            text = self.take("str").lower()
            self.take("punct", ",")
            field = self.take("word").lower()
        else:  # startswith(name, 'text')
            field = self.take("word").lower()
            self.take("punct", ",")
            text = self.take("str").lower()
        self.take("punct", ")")
        if field not in ("name", "resourcegroup", "tagname"):
            raise _bad(self.filt, f"{fn} works on name, resourceGroup and tagName, not '{field}'")
        if field == "tagname":
            self.tags = True
            return lambda r: any((k.lower().find(text) >= 0) if fn == "substringof" else k.lower().startswith(text)
                                 for k in (r.get("tags") or {}))
        get = _getter(field)
        if fn == "substringof":
            return lambda r: text in get(r).lower()
        return lambda r: get(r).lower().startswith(text)

    def equals(self, field: str, value: str) -> Pred:
        low = value.lower()
        if field == "tagname":
            self.tags, self.tag_name = True, low
            return lambda r: any(k.lower() == low for k in (r.get("tags") or {}))
        if field == "tagvalue":
            if self.tag_name is None:
                raise _bad(self.filt, "tagValue needs a tagName before it ('tagName eq ... and tagValue eq ...')")
            name = self.tag_name
            self.tags = True
            return lambda r: any(k.lower() == name and str(v).lower() == low for k, v in (r.get("tags") or {}).items())
        if field == "location":
            low = low.replace(" ", "")
        get = _getter(field)
        return lambda r: get(r).lower().replace(" ", "") == low if field == "location" else get(r).lower() == low


def _getter(field: str) -> Callable[[Row], str]:
    if field == "resourcegroup":
        return lambda r: (r.get("id") or "").split("/")[4] if (r.get("id") or "").count("/") >= 4 else ""
    if field == "resourcetype":
        return lambda r: r.get("type") or ""
    if field == "plan":
        return lambda r: ((r.get("plan") or {}).get("name") or "")
    if field == "identity":
        return lambda r: ((r.get("identity") or {}).get("type") or "")
    return lambda r: str(r.get(field) or "")


def parse_filter(filt: str | None) -> Filter | None:
    if filt is None or not filt.strip():
        return None
    return _Parser(filt).parse()


def parse_expand(expand: str | None) -> list[str]:
    """The ``$expand`` members ARM offers on generic lists (others are ignored, as ARM does)."""
    return [_EXPAND[m.strip().lower()] for m in (expand or "").split(",") if m.strip().lower() in _EXPAND]


def row(obj: Row, expand: list[str], with_tags: bool = True) -> Row:
    """One resource as ARM lists it generically."""
    out: Row = {"id": obj.get("id"), "name": obj.get("name"), "type": obj.get("type")}
    for k in ("kind", "managedBy", "sku", "plan", "identity", "location", "extendedLocation"):
        if obj.get(k) is not None:
            out[k] = obj[k]
    if with_tags:
        out["tags"] = obj.get("tags") or {}
    sd = obj.get("systemData") or {}
    if "createdTime" in expand and sd.get("createdAt"):
        out["createdTime"] = sd["createdAt"]
    if "changedTime" in expand and (sd.get("lastModifiedAt") or sd.get("createdAt")):
        out["changedTime"] = sd.get("lastModifiedAt") or sd.get("createdAt")
    if "provisioningState" in expand:
        out["provisioningState"] = ((obj.get("properties") or {}).get("provisioningState")) or "Succeeded"
    return out


def select(objs: Iterable[Row], query: dict[str, str]) -> list[Row]:
    """The rows the query's ``$filter`` keeps, shaped by its ``$expand``."""
    lower = {k.lower(): v for k, v in query.items()}
    filt = parse_filter(lower.get("$filter"))
    expand = parse_expand(lower.get("$expand"))
    out = []
    for obj in objs:
        if filt is None or filt.pred(obj):
            out.append(row(obj, expand, with_tags=filt is None or not filt.names_tags))
    return out


def page(rows: list[Row], query: dict[str, str], url: str, page_size: int) -> dict[str, Any]:
    """One page of ``rows`` with ARM's ``nextLink`` (the query kept, encoded) when more follow."""
    from urllib.parse import urlencode

    lower = {k.lower(): v for k, v in query.items()}
    try:
        skip = int(lower.get("$skiptoken") or 0)
        top = int(lower.get("$top") or page_size)
    except ValueError:
        raise bad_request("InvalidQueryParameterValue", "$top and $skiptoken must be integers.") from None
    if skip < 0 or top < 1:
        raise bad_request("InvalidQueryParameterValue", "$top must be at least 1 and $skiptoken at least 0.")
    top = min(top, 1000)
    body: dict[str, Any] = {"value": rows[skip:skip + top]}
    if skip + top < len(rows):
        rest = [(k, v) for k, v in query.items() if k.lower() != "$skiptoken"]
        body["nextLink"] = f"{url}?{urlencode(rest + [('$skiptoken', str(skip + top))])}"
    return body
