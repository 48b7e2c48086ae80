"""SARIF 2.1.0 output: one run, the rule catalogue as ``tool.driver.rules``, one result per finding."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import arclink
from arclink.lint.catalog import rule_catalog
from arclink.lint.json_output import dumps

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_DOCS = Path(__file__).resolve().parents[3] / "docs" / "rules"


def help_uri(doc: str) -> str:
    """An absolute file URI of the rule's page when the docs are beside the code, else the repo-relative path."""
    page = _DOCS / Path(doc).name
    return page.as_uri() if page.exists() else doc


def artifact_uri(file: str) -> str:
    p = Path(file)
    return p.resolve().as_uri() if p.is_absolute() else quote(p.as_posix())


def render_sarif(report) -> str:
    catalog = rule_catalog()
    index_of = {r["id"]: i for i, r in enumerate(catalog)}
    rules = [{
        "id": r["id"],
        "name": r["name"],
        "shortDescription": {"text": r["summary"]},
        "fullDescription": {"text": r["seed"]},
        "help": {"text": r["fix"]},
        "helpUri": help_uri(r["doc"]),
        "defaultConfiguration": {"level": _LEVEL.get(r["severity"], "warning")},
        "properties": {"hard": r["hard"]},
    } for r in catalog]
    results = []
    for p in report.items:
        f = p.finding
        loc: dict = {"logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}]}
        if report.file:
            phys: dict = {"artifactLocation": {"uri": artifact_uri(report.file)}}
            if p.line:
                phys["region"] = {"startLine": p.line}
            loc["physicalLocation"] = phys
        result = {"ruleId": f.rule, "level": _LEVEL.get(f.severity, "warning"),
                  "message": {"text": f"{f.message} Fix: {f.fix}"}, "locations": [loc],
                  "properties": {"path": f.path}}
        if f.rule in index_of:
            result["ruleIndex"] = index_of[f.rule]
        if f.related:
            result["relatedLocations"] = [{"id": i, "logicalLocations": [{"fullyQualifiedName": r, "kind": "resource"}]}
                                          for i, r in enumerate(f.related)]
        results.append(result)
    run = {"tool": {"driver": {"name": "arclink", "version": arclink.__version__, "rules": rules}},
           "results": results}
    if report.file:
        run["artifacts"] = [{"location": {"uri": artifact_uri(report.file)}}]
    return dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]})
