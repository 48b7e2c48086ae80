"""JSON output: ``{"file", "findings": [...], "summary": {...}}``."""

from __future__ import annotations

from arclink.model.rules import rule
from arclink.rules.jsonout import dumps


def render_json(report) -> str:
    findings = []
    for p in report.items:
        d = p.to_dict()
        try:
            meta = rule(p.finding.rule).meta
            d["name"], d["doc"] = meta.name, meta.doc
        except KeyError:
            pass
        findings.append(d)
    return dumps({"file": report.file, "findings": findings, "summary": report.summary()})
