"""APL015 beyond its example cases: a cluster that names no site; transit Azure would refuse."""

from __future__ import annotations

from pathlib import Path

from rules_fixtures import edited, run_text

TRANSIT = (Path(__file__).parent / "cases" / "APL015" / "fail-transit.yaml").read_text()


def test_apl015_cluster_without_site():
    found = run_text(edited(append="  - name: k3s-nowhere\n    privateLinkState: Enabled\n"
                              "    privateLinkScopeResourceId: pls-arc-retail\n"), "APL015")
    assert [f.path for f in found] == ["$.clusters[3]"]
    assert "names no site" in found[0].message


def test_apl015_transit_advice_sets_both_flags_where_azure_allows_them():
    found = run_text(TRANSIT, "APL015")
    assert [f.path for f in found] == ["$.sites[0]"]
    assert "set allowGatewayTransit: true on the peering of 'vnet-branch' with 'vnet-hub'" in found[0].fix


def test_apl015_transit_advice_when_the_hub_has_a_gateway_of_its_own():
    """A site lands on the hub, so the hub has a gateway and Azure refuses useRemoteGateways on its
    peerings: the advice is a connection to the hub, not a flag the emulator and Azure would refuse."""
    text = TRANSIT.replace("    peerings: [{virtualNetwork: vnet-branch, useRemoteGateways: true}]\n",
                           "    peerings: [vnet-branch]\n", 1)
    assert text != TRANSIT
    text = text.replace("\nclusters:\n", "\n  - name: store-hub-landed\n    addressSpace: [192.168.31.0/24]\n"
                        "    connections: [{type: ExpressRoute, virtualNetwork: vnet-hub}]\n\nclusters:\n", 1)
    found = run_text(text, "APL015")
    assert [f.path for f in found] == ["$.sites[0]"]
    assert "useRemoteGateways" in found[0].message  # what the peering lacks, as before
    assert found[0].fix == ("'vnet-hub' cannot set useRemoteGateways (it already has a gateway of its own), so add "
                            "a connection from site 'store-utrecht' to 'vnet-hub' itself.")
