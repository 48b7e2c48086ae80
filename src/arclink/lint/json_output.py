"""JSON output: ``{"file", "findings": [...], "summary": {...}}``, and the indented JSON writer it uses.

``dumps`` is also SARIF's and ``arclink explain --output json``'s: fast, because reports of a
100k-cluster fleet run to hundreds of megabytes.
"""

from __future__ import annotations

from typing import Any

import msgspec

from arclink.model.rules import all_rules


def dumps(doc: Any) -> str:
    """``doc`` as JSON indented by two spaces, with a final newline."""
    return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode() + "\n"


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
