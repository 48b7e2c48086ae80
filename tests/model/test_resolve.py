"""resolve(): what a name resolves to from a site, a VNet or the internet, and through whom.

The assertions are on outcomes (rcode, addresses, source, the forwarder and the VNet whose zone
links decided), not on the wording of the steps, which is for people.
"""

from __future__ import annotations

import pytest

from arclink.model import catalogue as cat
from arclink.model.resolve import INTERNET, View, resolve, view_for

from model_fixtures import example, variant

AMSTERDAM = View("site", "store-amsterdam")
HUB = View("vnet", "vnet-hub")
PRIVATE = {"gbl.his.arc.azure.com": "10.10.1.4", "weu.his.arc.azure.com": "10.10.1.5",
           "agentserviceapi.guestconfiguration.azure.com": "10.10.1.6",
           "westeurope-gas.guestconfiguration.azure.com": "10.10.1.7",
           "dp.kubernetesconfiguration.azure.com": "10.10.1.8",
           "westeurope.dp.kubernetesconfiguration.azure.com": "10.10.1.9"}


@pytest.mark.parametrize("name, address", PRIVATE.items())
def test_a_site_forwarding_to_the_resolver_gets_the_endpoint_address(name, address):
    r = resolve(example(), AMSTERDAM, name)
    assert (r.rcode, r.addresses, r.private, r.source) == ("NOERROR", [address], True, "private-zone")
    assert r.first_server == "192.168.10.53" and r.forwarder == "dnspr-hub-inbound" and r.zone_vnet == "vnet-hub"
    # the public CNAME into privatelink, then the A record of the private zone
    assert [(owner, rtype) for owner, rtype, _, _ in r.answers][0] == (name, "CNAME")
    owner, rtype, _, data = r.answers[-1]
    assert rtype == "A" and data == address and "privatelink." in owner


def test_the_vnet_asks_azure_dns_and_its_linked_zones_answer():
    r = resolve(example(), HUB, "gbl.his.arc.azure.com")
    assert (r.addresses, r.source, r.first_server, r.forwarder, r.zone_vnet) == \
        (["10.10.1.4"], "private-zone", "168.63.129.16", None, "vnet-hub")


def test_the_internet_gets_the_public_address_through_the_same_cname():
    r = resolve(example(), INTERNET, "gbl.his.arc.azure.com")
    assert r.source == "public" and r.first_server == "public resolver" and not r.private
    assert r.answers[0][:2] == ("gbl.his.arc.azure.com", "CNAME") and r.answers[0][3] == "gbl.privatelink.his.arc.azure.com"
    assert r.addresses == [cat.public_address("gbl.privatelink.his.arc.azure.com")]  # the CNAME target's public A


def test_names_outside_the_forwarded_zones_go_public_from_a_site():
    r = resolve(example(), AMSTERDAM, "management.azure.com")
    assert r.source == "public" and r.forwarder is None
    assert r.addresses == [cat.public_address("management.azure.com")]


@pytest.mark.parametrize("view", [AMSTERDAM, HUB, INTERNET])
def test_unknown_names_are_nxdomain_everywhere(view):
    for name in ("nonexistent.his.arc.azure.com", "example.org"):
        r = resolve(example(), view, name)
        assert (r.rcode, r.addresses, r.private) == ("NXDOMAIN", [], False)


def test_the_name_is_normalised_and_a_private_zone_has_no_aaaa():
    r = resolve(example(), AMSTERDAM, "GBL.His.Arc.Azure.com.", "aaaa")
    assert (r.name, r.qtype, r.rcode) == ("gbl.his.arc.azure.com", "AAAA", "NOERROR")
    assert r.addresses == [] and [a[1] for a in r.answers] == ["CNAME"]  # NODATA after the CNAME
    doc = r.to_dict()
    assert doc["type"] == "AAAA" and doc["addresses"] == [] and doc["firstServer"] == "192.168.10.53"
    assert all(set(s) == {"server", "action"} for s in doc["steps"]) and doc["steps"]


def test_a_site_forwarding_to_a_public_resolver_gets_public_answers():
    ix = example("broken/dns-forwards-to-public-resolver.yaml")
    wrong = resolve(ix, View("site", "store-amsterdam"), "dp.kubernetesconfiguration.azure.com")
    assert wrong.source == "public" and not wrong.private and wrong.forwarder is None
    right = resolve(ix, View("site", "store-rotterdam"), "dp.kubernetesconfiguration.azure.com")
    assert right.addresses == ["10.10.1.8"] and right.forwarder == "dnspr-hub-inbound"


def test_a_private_zone_missing_from_the_links_falls_through_to_public():
    ix = example("broken/zone-without-dp.yaml")
    r = resolve(ix, AMSTERDAM, "dp.kubernetesconfiguration.azure.com")
    assert r.forwarder == "dnspr-hub-inbound"  # the chain is right ...
    assert r.source == "public" and r.addresses == [cat.public_address("privatelink.dp.kubernetesconfiguration.azure.com")]
    assert resolve(ix, AMSTERDAM, "gbl.his.arc.azure.com").addresses == ["10.10.1.4"]  # ... the other zones are there


def test_an_unlinked_zone_is_not_seen_by_the_vnet():
    ix = variant(("  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n",
                  "  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: []\n"))
    r = resolve(ix, HUB, "gbl.his.arc.azure.com")
    assert r.source == "public" and not r.private and r.zone_vnet is None


def test_a_manual_record_on_the_site_server_wins():
    ix = variant(("      conditionalForwarders:\n", "      records:\n        - {name: gbl.his.arc.azure.com, addresses: [10.10.1.8]}\n"
                  "      conditionalForwarders:\n"))
    r = resolve(ix, AMSTERDAM, "gbl.his.arc.azure.com")
    assert (r.addresses, r.source) == (["10.10.1.8"], "manual")
    assert resolve(ix, View("site", "store-rotterdam"), "gbl.his.arc.azure.com").addresses == ["10.10.1.4"]


def test_a_forwarder_target_that_does_not_exist_fails_the_lookup():
    ix = variant(("        - {zone: his.arc.azure.com, targets: [10.10.3.4]}\n",
                  "        - {zone: his.arc.azure.com, targets: [10.10.9.9]}\n"))
    r = resolve(ix, AMSTERDAM, "gbl.his.arc.azure.com")
    assert r.rcode == "SERVFAIL" and r.addresses == [] and r.forwarder is None


def test_view_for_names_sites_vnets_and_addresses():
    ix = example()
    assert view_for(ix, "store-amsterdam") == AMSTERDAM
    hub_id = ix.vnet("vnet-hub").id
    # a VNet's view carries its ARM id: two VNets may share a name in different resource groups
    assert view_for(ix, "vnet-hub") == View("vnet", "vnet-hub", ref=hub_id) == view_for(ix, hub_id)
    assert view_for(ix, "192.168.20.7") == View("site", "store-rotterdam", "192.168.20.7")
    assert view_for(ix, "10.10.1.9") == View("vnet", "vnet-hub", "10.10.1.9", hub_id)
    assert view_for(ix, "8.8.8.8") == View("internet", "", "8.8.8.8")
    with pytest.raises(LookupError, match="'nowhere' is not a site, a virtual network or an IP address"):
        view_for(ix, "nowhere")
