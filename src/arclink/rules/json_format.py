"""JSON output: ``{"file", "findings": [...], "summary": {...}}``."""

from __future__ import annotations

from arclink.model.rules import all_rules
from arclink.rules.jsonout import dumps


def render_json(report) -> str:
    metas = {r.meta.id: r.meta for r in all_rules()}  # one lookup per finding, not a scan of the catalogue
    findings = []
    for p in report.items:
        d = p.to_dict()
        meta = metas.get(p.finding.rule)
        if meta is not None:
            d["name"], d["doc"] = meta.name, meta.doc
        findings.append(d)
    return dumps({"file": report.file, "findings": findings, "summary": report.summary()})
