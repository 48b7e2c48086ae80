"""A lint report: findings placed in their file, filtered by severity, counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from arclink.model.rules import SEVERITIES, Finding

FORMATS = ("text", "json", "sarif")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass
class Placed:
    finding: Finding
    line: int | None  # 1-based line in the topology file, when there is a file

    def to_dict(self) -> dict:
        d = self.finding.to_dict()
        d["line"] = self.line
        return d


@dataclass
class Report:
    file: str | None  # the topology file as the user named it; None for a live index
    items: list = field(default_factory=list)  # Placed, in path then rule order
    rules_checked: int = 0

    def count(self, severity: str) -> int:
        return sum(1 for p in self.items if p.finding.severity == severity)

    @property
    def has_errors(self) -> bool:
        return self.count("error") > 0

    def summary(self) -> dict:
        counts = Counter(p.finding.severity for p in self.items)  # one pass, not one per severity
        return {"total": len(self.items), "error": counts["error"], "warning": counts["warning"],
                "info": counts["info"], "rulesChecked": self.rules_checked}


def at_least(findings, min_severity: str) -> list[Finding]:
    floor = _RANK[min_severity]
    return [f for f in findings if _RANK.get(f.severity, 0) >= floor]


def build_report(findings, *, file: str | None = None, text: str | None = None, min_severity: str = "info",
                 rules_checked: int = 0) -> Report:
    """Place ``findings`` (at or above ``min_severity``) at their lines in ``text``."""
    kept = at_least(findings, min_severity)
    finder = None
    if text and kept:
        # Composing the YAML tree costs as much as parsing again: only when something is reported.
        from arclink.model.loader import LineFinder

        finder = LineFinder(text)
    items = [Placed(f, finder(f.path) if finder else None) for f in kept]
    return Report(file, items, rules_checked)


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        from arclink.lint.json_output import render_json

        return render_json(report)
    if fmt == "sarif":
        from arclink.lint.sarif import render_sarif

        return render_sarif(report)
    from arclink.lint.text import render_text

    return render_text(report)
