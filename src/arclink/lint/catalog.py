"""The rule catalogue as plain data, for ``arclink rules`` and SARIF's ``tool.driver.rules``."""

from __future__ import annotations

from arclink.model.rules import all_rules


def rule_catalog() -> list[dict]:
    """One dict per rule: id, name, severity, summary, doc, hard (plus seed, fix and policy)."""
    out = []
    for r in all_rules():
        m = r.meta
        out.append({"id": m.id, "name": m.name, "severity": m.severity, "summary": m.summary, "doc": m.doc,
                    "hard": m.hard, "seed": m.seed, "fix": m.fix, "policy": m.policy})
    return out
