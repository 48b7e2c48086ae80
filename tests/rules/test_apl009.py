"""APL009 beyond its example cases: the inbound Front Door rule, deny rules before allows, malformed port ranges."""

from __future__ import annotations

import pytest

from arclink.model.errors import TopologyError

from rules_fixtures import good, run_doc


def test_apl009_missing_inbound_front_door_rule():
    doc = good()
    rules_ = doc["networkSecurityGroups"][0]["securityRules"]
    doc["networkSecurityGroups"][0]["securityRules"] = [r for r in rules_ if r["direction"] == "Outbound"]
    found = run_doc(doc, "APL009")
    assert len(found) == 1
    assert "lacks AllowAzureFrontDoorFirstPartyAccess (inbound" in found[0].message


def test_apl009_needs_no_allow_rules_when_nothing_blocks_the_internet():
    doc = good()
    doc["networkSecurityGroups"][0]["securityRules"] = []
    assert run_doc(doc, "APL009") == []


def test_apl009_custom_inbound_deny_before_front_door_allow():
    doc = good()
    doc["networkSecurityGroups"][0]["securityRules"].append(
        {"name": "DenyInternetInbound", "priority": 120, "direction": "Inbound", "access": "Deny",
         "sourceAddressPrefix": "Internet"})
    found = run_doc(doc, "APL009")
    assert len(found) == 1 and "after 'DenyInternetInbound' (120)" in found[0].message


def test_apl009_a_malformed_port_range_is_refused_as_azure_refuses_it():
    doc = good()
    rules_ = doc["networkSecurityGroups"][0]["securityRules"]
    rules_.append({"name": "DenyWebTypo", "priority": 140, "direction": "Outbound", "access": "Deny",
                   "protocol": "Tcp", "destinationAddressPrefix": "Internet", "destinationPortRange": "80-abc"})
    with pytest.raises(TopologyError) as err:
        run_doc(doc, "APL009")
    assert err.value.code == "InvalidPortRange" and "Value provided: 80-abc" in err.value.message
    assert err.value.path.endswith(".securityRules[6].destinationPortRange")
    rules_[-1]["destinationPortRange"] = "400-500"  # the same rule, well formed, does block 443
    found = run_doc(doc, "APL009")
    assert [f.path for f in found] == ["$.networkSecurityGroups[0]"] and "'DenyWebTypo'" in found[0].message
