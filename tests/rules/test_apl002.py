"""APL002 beyond its example cases: a site reported once for all its clusters; clusters without private link ignored."""

from __future__ import annotations

import copy

import yaml

from rules_fixtures import ROOT, run_doc


def test_apl002_reports_the_site_once_when_all_its_clusters_are_affected():
    doc = yaml.safe_load((ROOT / "tests/rules/cases/APL002/fail.yaml").read_text())
    extra = copy.deepcopy(next(c for c in doc["clusters"] if c["name"] == "k3s-utrecht"))
    extra["name"] = "k3s-utrecht-2"
    doc["clusters"].append(extra)
    found = run_doc(doc, "APL002")
    assert sorted(f.path for f in found) == ["$.clusters[1]", "$.sites[2]"]
    site_finding = next(f for f in found if f.path == "$.sites[2]")
    assert "'k3s-utrecht'" in site_finding.message and "'k3s-utrecht-2'" in site_finding.message
    assert "'pls-arc-lab'" in site_finding.message and "'pls-arc-retail'" in site_finding.message


def test_apl002_ignores_clusters_without_private_link():
    doc = yaml.safe_load((ROOT / "tests/rules/cases/APL002/fail.yaml").read_text())
    for c in doc["clusters"]:
        c["privateLinkState"] = "Disabled"
    assert run_doc(doc, "APL002") == []
