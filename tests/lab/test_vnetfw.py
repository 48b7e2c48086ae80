"""NSG rules as nftables text (no root needed): every prefix of a rule, service tags by the lab's table."""

from __future__ import annotations

import msgspec
import yaml

from arclink.lab.plan import build_plan
from arclink.lab.vnetfw import nsg_rules, ruleset
from arclink.cli._topology import load_index
from arclink.model import catalogue as cat, schema

from .conftest import REPO

FRONTDOOR = sorted(cat.public_address(n) for n in ("mcr.microsoft.com", "westeurope.data.mcr.microsoft.com"))


def _lab():
    ix = load_index(str(REPO / "examples/good.yaml"))
    return ix, ix.vnet("vnet-hub"), build_plan(ix, "unit").tag_addresses()


def _rule(**fields) -> schema.SecurityRule:
    base = {"name": "r", "priority": 100, "direction": "Inbound", "access": "Deny", "protocol": "Tcp",
            "destinationPortRange": "443"}
    return msgspec.convert({**base, **fields}, schema.SecurityRule)


def test_a_rules_prefixes_all_count_and_a_tag_without_lab_addresses_adds_none():
    ix, vnet, tags = _lab()
    got = nsg_rules(ix, vnet, _rule(sourceAddressPrefixes=["AzureFrontDoor.FirstParty", "203.0.113.0/24", "Storage"]),
                    tags)
    assert got == ["ip saddr { " + ", ".join(sorted([*FRONTDOOR, "203.0.113.0/24"])) + " } meta l4proto tcp "
                   "th dport { 443 } drop comment \"r (100)\""]
    assert nsg_rules(ix, vnet, _rule(sourceAddressPrefix="Storage"), tags) == []


def test_internet_and_a_tag_are_two_alternatives_and_outbound_rules_have_their_chain(tmp_path):
    ix, vnet, tags = _lab()
    got = nsg_rules(ix, vnet, _rule(direction="Outbound", destinationAddressPrefixes=["AzureResourceManager",
                                                                                       "Internet"]), tags)
    assert len(got) == 2
    assert got[0].startswith(f"ip daddr {{ {cat.public_address('management.azure.com')} }} ")
    assert got[1].startswith("ip daddr != { ")
    assert ruleset(ix, vnet, tags) is None  # good.yaml leaves network policies Disabled: no NSG on endpoints
    doc = yaml.safe_load((REPO / "examples/good.yaml").read_text())
    doc["virtualNetworks"][0]["subnets"][0]["privateEndpointNetworkPolicies"] = "Enabled"
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(doc))
    ix = load_index(str(tmp_path / "t.yaml"))
    text = ruleset(ix, ix.vnet("vnet-hub"), tags)
    out = text[text.index("chain nsg0_out"):]
    arm = cat.public_address("management.azure.com")
    # the seed's outbound allows, then the topology's DenyInternetOutbound, then Azure's defaults
    assert out.index(f"ip daddr {{ {arm} }}") < out.index('drop comment "DenyInternetOutbound (4000)"') \
        < out.index('accept comment "AllowInternetOutBound (65001)"') < out.index('drop comment "DenyAllOutBound')
    assert "ct state established,related accept" in text  # stateful: answers pass
