"""Behaviour of rules APL001-APL013 beyond their example cases: reporting choices, helpers, scale."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from arclink.model import rules, trace
from arclink.model.errors import TopologyError
from arclink.model.loader import load, loads
from arclink.model.rules import apl004, apl005, apl012

ROOT = Path(__file__).parents[2]
GOOD = yaml.safe_load((ROOT / "examples/good.yaml").read_text())
MINE = [f"APL{n:03d}" for n in range(1, 14)]


def good() -> dict:
    return copy.deepcopy(GOOD)


def run(doc: dict, rule_id: str):
    return rules.run(loads(yaml.safe_dump(doc, sort_keys=False)), only=[rule_id])


def site(doc, name):
    return next(s for s in doc["sites"] if s["name"] == name)


def test_good_example_is_clean_for_these_rules():
    assert rules.run(load(ROOT / "examples/good.yaml"), only=MINE) == []


@pytest.mark.parametrize("rule_id", MINE)
def test_messages_are_one_sentence_naming_resources(rule_id):
    found = rules.run(load(ROOT / f"tests/rules/cases/{rule_id}/fail.yaml"), only=[rule_id])
    assert found
    for f in found:
        assert f.message.endswith(".") and "\n" not in f.message
        assert "'" in f.message  # names in quotes
        assert f.severity == rules.rule(rule_id).meta.severity
        assert f.fix == rules.rule(rule_id).meta.fix


def test_hard_rules_are_the_ones_azure_refuses():
    hard = {r.meta.id for r in rules.all_rules() if r.meta.hard and r.meta.id in MINE}
    assert hard == {"APL001", "APL004", "APL005", "APL012"}


# --- APL002 -------------------------------------------------------------------------------------


def test_apl002_reports_the_site_once_when_all_its_clusters_are_affected():
    doc = yaml.safe_load((ROOT / "tests/rules/cases/APL002/fail.yaml").read_text())
    extra = copy.deepcopy(next(c for c in doc["clusters"] if c["name"] == "k3s-utrecht"))
    extra["name"] = "k3s-utrecht-2"
    doc["clusters"].append(extra)
    found = run(doc, "APL002")
    assert sorted(f.path for f in found) == ["$.clusters[1]", "$.sites[2]"]
    site_finding = next(f for f in found if f.path == "$.sites[2]")
    assert "'k3s-utrecht'" in site_finding.message and "'k3s-utrecht-2'" in site_finding.message
    assert "'pls-arc-lab'" in site_finding.message and "'pls-arc-retail'" in site_finding.message


def test_apl002_ignores_clusters_without_private_link():
    doc = yaml.safe_load((ROOT / "tests/rules/cases/APL002/fail.yaml").read_text())
    for c in doc["clusters"]:
        c["privateLinkState"] = "Disabled"
    assert run(doc, "APL002") == []


# --- APL003 -------------------------------------------------------------------------------------


def _with_vm_forwarder(doc):
    doc["dnsForwarders"].append({"name": "vm-dns-hub", "kind": "vm", "virtualNetwork": "vnet-hub",
                                 "ipAddress": "10.10.3.5"})


def test_apl003_site_splitting_its_names_over_two_forwarders_is_reported_even_alone():
    doc = good()
    _with_vm_forwarder(doc)
    doc["clusters"] = doc["clusters"][:1]
    cf = site(doc, "store-amsterdam")["dns"]["conditionalForwarders"]
    cf[2]["targets"] = ["10.10.3.5"]  # dp goes to the VM, his and guestconfiguration to the resolver
    found = run(doc, "APL003")
    assert [f.path for f in found] == ["$.sites[0]"]
    assert "'dnspr-hub-inbound'" in found[0].message and "'vm-dns-hub'" in found[0].message


def test_apl003_majority_is_by_clusters_not_sites():
    doc = good()
    _with_vm_forwarder(doc)
    # utrecht uses the VM but carries three clusters; amsterdam and rotterdam one each
    for cf in site(doc, "store-utrecht")["dns"]["conditionalForwarders"]:
        cf["targets"] = ["10.10.3.5"]
    base = next(c for c in doc["clusters"] if c["name"] == "k3s-utrecht")
    for n in (2, 3):
        doc["clusters"].append({**copy.deepcopy(base), "name": f"k3s-utrecht-{n}"})
    assert sorted(f.path for f in run(doc, "APL003")) == ["$.sites[0]", "$.sites[1]"]


# --- APL004 / APL005 / APL012 helpers -------------------------------------------------------------


def test_region_helpers():
    assert apl004.region_mismatch("West Europe", "westeurope") is None
    msg = apl004.region_mismatch("eastus", "westeurope")
    assert msg.startswith("The location of the private link scope resource does not match") and "'eastus'" in msg
    assert apl005.pe_region_mismatch("westeurope", "WestEurope") is None
    assert "same region" in apl005.pe_region_mismatch("northeurope", "westeurope", "/sub/x", "/pe/y")


def test_feature_and_extension_helpers():
    cli = "The features 'cluster-connect' and 'custom-locations' cannot be enabled for a private link enabled connected cluster."
    assert apl012.feature_error("Enabled", ["cluster-connect"]) == cli
    assert apl012.feature_error("enabled", ["Custom-Locations"]) == cli
    assert apl012.feature_error("Enabled", ["azure-rbac"]) is None
    assert apl012.feature_error("Disabled", ["cluster-connect"]) is None
    assert "Container Apps" in apl012.extension_error("Enabled", "Microsoft.App.Environment")
    assert apl012.extension_error("Enabled", "microsoft.flux") is None
    assert apl012.extension_error(None, "microsoft.arcdataservices") is None


# --- APL008 / APL009 ------------------------------------------------------------------------------


def test_apl008_allow_all_passes_and_missing_firewall_is_not_checked():
    doc = good()
    site(doc, "store-amsterdam")["firewall"] = {"allowAll": True}
    del site(doc, "store-rotterdam")["firewall"]
    assert run(doc, "APL008") == []


def test_apl009_missing_inbound_front_door_rule():
    doc = good()
    rules_ = doc["networkSecurityGroups"][0]["securityRules"]
    doc["networkSecurityGroups"][0]["securityRules"] = [r for r in rules_ if r["direction"] == "Outbound"]
    found = run(doc, "APL009")
    assert len(found) == 1
    assert "lacks AllowAzureFrontDoorFirstPartyAccess (inbound" in found[0].message


def test_apl009_needs_no_allow_rules_when_nothing_blocks_the_internet():
    doc = good()
    doc["networkSecurityGroups"][0]["securityRules"] = []
    assert run(doc, "APL009") == []


def test_apl009_custom_inbound_deny_before_front_door_allow():
    doc = good()
    doc["networkSecurityGroups"][0]["securityRules"].append(
        {"name": "DenyInternetInbound", "priority": 120, "direction": "Inbound", "access": "Deny",
         "sourceAddressPrefix": "Internet"})
    found = run(doc, "APL009")
    assert len(found) == 1 and "after 'DenyInternetInbound' (120)" in found[0].message


# --- APL010 -------------------------------------------------------------------------------------


def test_apl010_sites_sharing_one_dns_server_with_both_kinds():
    doc = good()
    site(doc, "store-rotterdam")["dns"]["address"] = "192.168.10.53"  # amsterdam's server
    next(c for c in doc["clusters"] if c["name"] == "k3s-rotterdam").update(
        privateLinkState="Disabled", privateLinkScopeResourceId=None)
    found = run(doc, "APL010")
    assert sorted(f.path for f in found) == ["$.sites[0]", "$.sites[1]"]


# --- scale ----------------------------------------------------------------------------------------


def test_resolution_is_per_site_not_per_cluster(monkeypatch):
    calls = []
    real = trace.resolve
    monkeypatch.setattr(trace, "resolve", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    doc = good()
    base = doc["clusters"]
    doc["clusters"] = [{**copy.deepcopy(c), "name": f"{c['name']}-{n}"} for n in range(40) for c in base]
    for c in doc["clusters"][::2]:
        c.update(privateLinkState="Disabled", privateLinkScopeResourceId=None)
    rules.run(loads(yaml.safe_dump(doc, sort_keys=False)), only=MINE)
    names = len(trace.agent_names("westeurope"))
    assert 0 < len(calls) <= len(doc["sites"]) * names


def test_apl010_non_private_link_cluster_whose_site_answers_nxdomain():
    doc = good()
    doc["sites"].append({"name": "store-depot", "addressSpace": ["192.168.90.0/24"],
                         "dns": {"address": "192.168.90.53", "zones": ["dp.kubernetesconfiguration.azure.com"]}})
    doc["clusters"].append({"name": "k3s-depot", "site": "store-depot", "privateLinkState": "Disabled"})
    found = run(doc, "APL010")
    assert [f.path for f in found] == ["$.clusters[3]"]
    assert "does not resolve 'dp.kubernetesconfiguration.azure.com'" in found[0].message


def test_apl009_a_malformed_port_range_is_refused_as_azure_refuses_it():
    doc = good()
    rules_ = doc["networkSecurityGroups"][0]["securityRules"]
    rules_.append({"name": "DenyWebTypo", "priority": 140, "direction": "Outbound", "access": "Deny",
                   "protocol": "Tcp", "destinationAddressPrefix": "Internet", "destinationPortRange": "80-abc"})
    with pytest.raises(TopologyError) as err:
        run(doc, "APL009")
    assert err.value.code == "InvalidPortRange" and "Value provided: 80-abc" in err.value.message
    assert err.value.path.endswith(".securityRules[6].destinationPortRange")
    rules_[-1]["destinationPortRange"] = "400-500"  # the same rule, well formed, does block 443
    found = run(doc, "APL009")
    assert [f.path for f in found] == ["$.networkSecurityGroups[0]"] and "'DenyWebTypo'" in found[0].message
