"""The bundled examples: good.yaml lints clean, each broken variant gives exactly its intended findings."""

from __future__ import annotations

import json

import pytest

from arclink.model import rules
from arclink.model.loader import load
from lint_fixtures import EXAMPLES, arclink

# file -> the (rule, JSON path of the resource) pairs it must produce, no more, no fewer.
INTENDED: dict[str, set[tuple[str, str]]] = {
    "dns-forwards-to-public-resolver": {
        ("APL016", "$.sites[0]"),  # the Arc names resolve to public addresses from Amsterdam
        ("APL020", "$.sites[0]"),  # public access Disabled: its private-link cluster has no way in (per site)
    },
    "zone-without-dp": {
        ("APL024", "$.privateDnsZones[2]"),  # the zone is misnamed: nothing reads it
        ("APL024", "$.privateEndpoints[0]"),  # the endpoint's zone group lacks the right zone
        ("APL016", "$.sites[0]"), ("APL016", "$.sites[1]"), ("APL016", "$.sites[2]"),  # dp names resolve public
        ("APL020", "$.sites[0]"), ("APL020", "$.sites[1]"), ("APL020", "$.sites[2]"),  # so they are refused
    },
    "non-private-link-cluster-shares-dns": {
        ("APL010", "$.sites[0]"),  # private-link and non-private-link clusters share a DNS server
        ("APL023", "$.clusters[3]"),  # the legacy cluster resolves the endpoint but is not associated
    },
    "cluster-not-associated-with-scope": {
        ("APL023", "$.clusters[2]"),
    },
    "region-mismatch": {
        ("APL004", "$.clusters[0]"), ("APL004", "$.clusters[1]"), ("APL004", "$.clusters[2]"),
        ("APL006", "$.privateEndpoints[0]"),  # the scope's region differs from the VNet's: a warning
    },
    "pending-endpoint-connection": {
        ("APL019", "$.privateEndpoints[0]"),
    },
    "cluster-connect-enabled": {
        ("APL012", "$.clusters[1]"),
    },
    "firewall-missing-frontdoor": {
        ("APL008", "$.sites[2]"),
    },
    "two-scopes-one-vnet": {
        ("APL001", "$.virtualNetworks[0]"),
    },
}


def test_every_broken_example_has_an_intended_set():
    assert sorted(p.stem for p in (EXAMPLES / "broken").glob("*.yaml")) == sorted(INTENDED)


@pytest.mark.parametrize("name", sorted(INTENDED))
def test_broken_example_gives_exactly_its_findings(name):
    path = EXAMPLES / "broken" / f"{name}.yaml"
    assert path.read_text().startswith("# BROKEN: "), "each broken example opens with a comment saying what is wrong"
    got = {(f.rule, f.path) for f in rules.run(load(path))}
    assert got == INTENDED[name]


def test_good_example_has_no_finding_at_all():
    assert rules.run(load(EXAMPLES / "good.yaml")) == []


def test_good_example_lints_with_exit_0():
    proc = arclink("lint", EXAMPLES / "good.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no findings" in proc.stdout


def test_broken_example_lints_with_exit_1_and_names_the_fix():
    proc = arclink("lint", EXAMPLES / "broken" / "cluster-connect-enabled.yaml")
    assert proc.returncode == 1, proc.stderr
    assert "APL012" in proc.stdout and "k3s-rotterdam" in proc.stdout and "fix:" in proc.stdout


def test_json_report_of_a_broken_example():
    proc = arclink("lint", EXAMPLES / "broken" / "firewall-missing-frontdoor.yaml", "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert [(f["rule"], f["path"]) for f in doc["findings"]] == [("APL008", "$.sites[2]")]
    assert doc["findings"][0]["line"] > 1 and doc["summary"]["error"] == 1
