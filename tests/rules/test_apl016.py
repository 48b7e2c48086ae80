"""APL016 beyond its example cases: timeouts and where, NXDOMAIN naming the zone, scopes without endpoints, wrong owners."""

from __future__ import annotations

from rules_fixtures import ROTTERDAM_FORWARDERS, edited, run_text


def test_apl016_timeout_and_where():
    # the forwarder address exists nowhere: the query times out at the site's DNS server
    text = edited(("zone: his.arc.azure.com, targets: [10.10.3.4]}\n        - {zone: guestconfiguration.azure.com, "
                   "targets: [10.10.3.4]}\n        - {zone: dp.kubernetesconfiguration.azure.com, targets: [10.10.3.4]}\n"
                   "    firewall:\n      outbound: [AzureActiveDirectory, AzureResourceManager, MicrosoftContainerRegistry, "
                   "AzureFrontDoor.FirstParty]\n      inbound: [AzureFrontDoor.FirstParty]\n  - name: store-rotterdam",
                   "zone: his.arc.azure.com, targets: [10.10.9.9]}\n        - {zone: guestconfiguration.azure.com, "
                   "targets: [10.10.3.4]}\n        - {zone: dp.kubernetesconfiguration.azure.com, targets: [10.10.3.4]}\n"
                   "    firewall:\n      outbound: [AzureActiveDirectory, AzureResourceManager, MicrosoftContainerRegistry, "
                   "AzureFrontDoor.FirstParty]\n      inbound: [AzureFrontDoor.FirstParty]\n  - name: store-rotterdam"))
    found = run_text(text, "APL016")
    assert [f.path for f in found] == ["$.sites[0]"]
    msg = found[0].message
    assert "gbl.his.arc.azure.com -> times out" in msg and "weu.his.arc.azure.com -> times out" in msg
    assert "2 Arc names do not resolve" in msg
    assert "10.10.9.9" in msg  # the chain names the forwarder that never answers
    assert "agentserviceapi" not in msg


def test_apl016_nxdomain_names_the_zone():
    text = edited(("      - privatelink.guestconfiguration.azure.com\n      - privatelink.dp.kubernetesconfiguration.azure.com\n",
                   "      - privatelink.guestconfiguration.azure.com\n"))
    found = run_text(text, "APL016")
    assert sorted(f.path for f in found) == ["$.sites[0]", "$.sites[1]", "$.sites[2]"]
    msg = found[0].message
    assert "dp.kubernetesconfiguration.azure.com -> NXDOMAIN" in msg
    assert "privatelink.dp.kubernetesconfiguration.azure.com" in msg


def test_apl016_scope_without_endpoint():
    text = edited(("privateLinkScopes:\n", "privateLinkScopes:\n  - name: pls-empty\n"),
                  append="  - name: k3s-amsterdam-2\n    site: store-amsterdam\n    privateLinkState: Enabled\n"
                         "    privateLinkScopeResourceId: pls-empty\n")
    found = run_text(text, "APL016")
    assert [f.path for f in found] == ["$.sites[0]"]
    assert "scope 'pls-empty'" in found[0].message and "has no private endpoint" in found[0].message


def test_apl016_wrong_private_address_names_its_owner():
    # a manual record on the site points gbl at the dp address of the endpoint
    text = edited((ROTTERDAM_FORWARDERS, ROTTERDAM_FORWARDERS.replace(
        "      conditionalForwarders:\n",
        "      records:\n        - {name: gbl.his.arc.azure.com, addresses: [10.10.1.8]}\n      conditionalForwarders:\n")))
    found = run_text(text, "APL016")
    assert [f.path for f in found] == ["$.sites[1]"]
    assert "gbl.his.arc.azure.com -> 10.10.1.8 (private endpoint 'pe-arc-retail' of scope 'pls-arc-retail')" in found[0].message
