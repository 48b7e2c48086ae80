"""Lint output formats (text, JSON, SARIF 2.1.0 against the official schema) and the other planner commands."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from arclink.model import rules
from arclink.model.loader import load
from arclink.lint import build_report, render
from lint_fixtures import EXAMPLES, arclink

SARIF_SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-2.1.0-rtm.5.json").read_text())
REGION = EXAMPLES / "broken" / "region-mismatch.yaml"


def _report(path: Path, min_severity: str = "info"):
    return build_report(rules.run(load(path)), file=str(path), text=path.read_text(), min_severity=min_severity,
                        rules_checked=len(rules.all_rules()))


@pytest.mark.parametrize("path", [EXAMPLES / "good.yaml", REGION, EXAMPLES / "broken" / "two-scopes-one-vnet.yaml"])
def test_sarif_is_valid_against_the_official_schema(path):
    doc = json.loads(render(_report(path), "sarif"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == [r.meta.id for r in rules.all_rules()]
    assert all(r["helpUri"].endswith(f"docs/rules/{r['id']}.md") for r in run["tool"]["driver"]["rules"])
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]
        loc = res["locations"][0]
        assert loc["physicalLocation"]["region"]["startLine"] >= 1
        assert loc["logicalLocations"][0]["fullyQualifiedName"].startswith("/subscriptions/")


def test_sarif_points_at_the_lines_of_the_resources():
    doc = json.loads(render(_report(REGION), "sarif"))
    lines = REGION.read_text().splitlines()
    levels = {}
    for res in doc["runs"][0]["results"]:
        line = lines[res["locations"][0]["physicalLocation"]["region"]["startLine"] - 1]
        name = res["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].rsplit("/", 1)[-1]
        assert name in line, (res["ruleId"], line)
        levels[res["ruleId"]] = res["level"]
    assert levels == {"APL004": "error", "APL006": "warning"}


def test_text_groups_by_resource_with_rule_message_fix_and_line():
    out = render(_report(REGION), "text")
    assert out.count("cluster 'k3s-amsterdam'") >= 1
    first = out.splitlines()[0]
    assert first.startswith(f"{REGION}:") and "cluster 'k3s-amsterdam'" in first
    assert "  error   APL004  " in out and "fix: " in out
    assert "warning APL006" in out
    assert out.rstrip().endswith("rules checked).")


def test_min_severity_filters_and_exit_code_follows_errors():
    warn_only = build_report([f for f in rules.run(load(REGION)) if f.severity == "warning"], file="x")
    assert not warn_only.has_errors
    proc = arclink("lint", REGION, "--min-severity", "error", "--format", "json")
    assert proc.returncode == 1
    assert {f["rule"] for f in json.loads(proc.stdout)["findings"]} == {"APL004"}


def test_warnings_alone_exit_0(tmp_path):
    # An extension not validated over private link is a warning (APL013), not an error.
    text = (EXAMPLES / "good.yaml").read_text().replace("extensions: [microsoft.flux]\n",
                                                         "extensions: [microsoft.flux, microsoft.openservicemesh]\n", 1)
    p = tmp_path / "warn.yaml"
    p.write_text(text)
    assert {(f.rule, f.severity) for f in rules.run(load(p))} == {("APL013", "warning")}
    proc = arclink("lint", p)
    assert proc.returncode == 0, proc.stdout
    assert "warning APL013" in proc.stdout and "1 finding: 0 error(s), 1 warning(s)" in proc.stdout


def test_rules_json_lists_the_catalogue():
    proc = arclink("rules", "--format", "json")
    assert proc.returncode == 0
    cat = json.loads(proc.stdout)
    assert [r["id"] for r in cat] == [r.meta.id for r in rules.all_rules()]
    for r in cat:
        assert set(r) == {"id", "name", "severity", "summary", "doc", "hard"}
        assert r["severity"] in ("info", "warning", "error") and r["doc"] == f"docs/rules/{r['id']}.md"


def test_rules_text():
    proc = arclink("rules")
    assert proc.returncode == 0 and proc.stdout.startswith("APL001  error")


def test_schema_accepts_the_bundled_examples():
    proc = arclink("schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    validator = jsonschema.Draft202012Validator(schema)
    for path in [EXAMPLES / "good.yaml", *sorted((EXAMPLES / "broken").glob("*.yaml"))]:
        validator.validate(yaml.safe_load(path.read_text()))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"clusters": [{"name": "a", "privateLinkState": "On"}]})


def test_explain_json_per_cluster():
    proc = arclink("explain", EXAMPLES / "broken" / "cluster-not-associated-with-scope.yaml", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    by = {c["cluster"]: c for c in doc["clusters"]}
    assert by["k3s-amsterdam"]["admitted"] is True
    assert by["k3s-utrecht"]["admitted"] is False
    assert by["k3s-utrecht"]["code"] == "ClusterNotAssociatedWithScope"
    first = by["k3s-utrecht"]["names"][0]
    assert first["fqdn"] == "gbl.his.arc.azure.com" and first["resolution"]["private"] is True
    assert doc["summary"] == {"clusters": 3, "admitted": 2, "refused": 1}


def test_explain_plain_text_when_piped():
    proc = arclink("explain", EXAMPLES / "broken" / "dns-forwards-to-public-resolver.yaml", "--cluster", "k3s-amsterdam")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "\x1b[" not in out  # no terminal escapes in a pipe
    assert out.startswith("cluster 'k3s-amsterdam'") and "REFUSED " in out.splitlines()[0]
    assert "8.8.8.8" in out and "resolves to" in out and "connects to" in out


def test_explain_rich_table_in_a_terminal():
    from arclink.cli import explain
    from arclink.model.trace import cluster_trace
    from rich.console import Console

    ix = load(EXAMPLES / "good.yaml")
    console = Console(record=True, width=200, force_terminal=True)
    explain._rich([cluster_trace(ix, ix.cluster("k3s-rotterdam"))], console=console)
    out = console.export_text()
    assert "ADMITTED" in out and "resolves (chain)" in out and "gbl.his.arc.azure.com" in out


def test_explain_unknown_cluster_suggests():
    proc = arclink("explain", EXAMPLES / "good.yaml", "--cluster", "k3s-utrech")
    assert proc.returncode == 2 and "did you mean 'k3s-utrecht'" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr


def test_lint_needs_exactly_one_input(tmp_path):
    proc = arclink("lint")
    assert proc.returncode == 2 and "exactly one" in proc.stderr
    proc = arclink("lint", "--emulator", tmp_path / "endpoints.json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
