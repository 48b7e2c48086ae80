"""The seed's rules APL001-APL025: each a small module ``aplNNN.py`` with its metadata and check.

A rule module defines ``RULE = Rule(id=..., name=..., severity=..., summary=..., seed=...,
fix=..., policy=...)`` and ``def check(ix: Index) -> Iterable[Finding]``. Rules live in
the model because the same checks serve ``arclink lint``, the ARM emulator's write-time
refusals and the doctor's diagnosis. Their documentation pages are ``docs/rules/APLNNN.md``.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Protocol

from arclink.model.index import Index, SiteR

SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Rule:
    id: str  # APL001
    name: str  # kebab-case, e.g. one-scope-per-vnet
    severity: str  # the usual severity: info, warning, error
    summary: str  # one line
    seed: str  # the seed's own words this rule enforces
    fix: str  # what to do, generally
    hard: bool = False  # Azure refuses it at write time (the emulator returns an ARM error)
    policy: str | None = None  # an Azure Policy built-in that enforces the same, if any
    arm_code: str | None = None  # the ARM error code the emulator refuses a write with (hard rules)

    @property
    def doc(self) -> str:
        return f"docs/rules/{self.id}.md"


@dataclass
class Finding:
    rule: str  # APL id
    severity: str
    message: str  # names the resources involved
    fix: str
    resource: str  # ARM id or "site:<name>" / "cluster:<name>"
    path: str  # JSON path into the topology, e.g. $.clusters[3]
    related: list = field(default_factory=list)  # other resources involved

    def to_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "fix": self.fix,
                "resource": self.resource, "path": self.path, "related": list(self.related)}


@dataclass(frozen=True)
class LoadedRule:
    meta: Rule
    check: Callable


@lru_cache(maxsize=1)
def all_rules() -> tuple[LoadedRule, ...]:
    found = []
    for mod in pkgutil.iter_modules(__path__):
        if mod.name.startswith("apl"):
            m = importlib.import_module(f"{__name__}.{mod.name}")
            found.append(LoadedRule(m.RULE, m.check))
    return tuple(sorted(found, key=lambda r: r.meta.id))


def rule(rule_id: str) -> LoadedRule:
    for r in all_rules():
        if r.meta.id == rule_id.upper():
            return r
    raise KeyError(rule_id)


def run(ix: Index, only: Iterable[str] | None = None) -> list[Finding]:
    """Every finding of every rule (or of ``only``), sorted by resource path then rule."""
    wanted = {o.upper() for o in only} if only else None
    out: list[Finding] = []
    for r in all_rules():
        if wanted is None or r.meta.id in wanted:
            out.extend(r.check(ix))
    out.sort(key=lambda f: (f.path, f.rule))
    return out


class Subject(Protocol):
    """What a finding is about: a resolved resource (or a record of one) with its ARM id and JSON path."""

    @property
    def id(self) -> str: ...

    @property
    def path(self) -> str: ...


def _ref(x: Subject | SiteR) -> str:
    # A site is no ARM resource: findings name it "site:<name>".
    return f"site:{x.name}" if isinstance(x, SiteR) else x.id


def finding(meta: Rule, res: Subject | SiteR, message: str, *, fix: str | None = None, severity: str | None = None,
            related: Iterable[Subject | SiteR | None] = ()) -> Finding:
    """A finding about ``res`` (any resolved object with ``id``/``path``, or a site); ``None`` in
    ``related`` (an optional scope or site that is absent) is left out."""
    return Finding(meta.id, severity or meta.severity, message, fix or meta.fix, _ref(res), res.path,
                   [_ref(x) for x in related if x is not None])
