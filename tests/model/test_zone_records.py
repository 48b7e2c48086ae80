"""Private zone records of every type resolve() follows, and empty placeholders answer NODATA.

AAAA, TXT and CNAME record sets (in ARM's property names), chains within and across zones with
a loop limit, the apex SOA and NS that every Azure private zone has; and a placeholder record
without an address is NOERROR with no data on every path (private zone, on-premises records,
on-premises hosted zone), as docs/rules/APL017.md says.
"""

from __future__ import annotations

import pytest

from arclink.model import catalogue as cat
from arclink.model.resolve import View, resolve
from arclink.model.steps import Failure

from model_fixtures import variant

HUB = View("vnet", "vnet-hub")
AMSTERDAM = View("site", "store-amsterdam")

ZONES = """
  - name: contoso.internal
    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]
    records:
      - {name: v6, type: AAAA, aaaaRecords: [{ipv6Address: "fd00::5"}]}
      - {name: note, type: TXT, txtRecords: [{value: ["hello", "world"]}, {value: ["v=1"]}]}
      - {name: web, type: CNAME, cnameRecord: {cname: app.contoso.internal}}
      - {name: app, type: A, addresses: [10.10.9.9]}
      - {name: out, type: CNAME, cnameRecord: {cname: gbl.privatelink.his.arc.azure.com}}
      - {name: loop1, type: CNAME, cname: loop2.contoso.internal}
      - {name: loop2, type: CNAME, cname: loop1.contoso.internal}
      - {name: empty, type: A}
"""


def _ix():
    return variant(("privateDnsZones:\n", "privateDnsZones:" + ZONES))


def test_aaaa_answers_and_a_question_on_an_aaaa_name_is_nodata():
    ix = _ix()
    r = resolve(ix, HUB, "v6.contoso.internal", "AAAA")
    assert (r.rcode, r.addresses, r.source) == ("NOERROR", ["fd00::5"], "private-zone")
    r = resolve(ix, HUB, "v6.contoso.internal", "A")
    assert (r.rcode, r.addresses, r.failure) == ("NOERROR", [], Failure.NODATA)


def test_txt_answers_every_record_of_the_set():
    r = resolve(_ix(), HUB, "note.contoso.internal", "TXT")
    assert r.rcode == "NOERROR"
    assert [(t, d) for _, t, _, d in r.answers] == [("TXT", '"hello" "world"'), ("TXT", '"v=1"')]


def test_cname_chains_within_and_across_zones():
    ix = _ix()
    r = resolve(ix, HUB, "web.contoso.internal")
    assert [(o, t) for o, t, _, _ in r.answers] == [("web.contoso.internal", "CNAME"), ("app.contoso.internal", "A")]
    assert r.addresses == ["10.10.9.9"]
    r = resolve(ix, HUB, "out.contoso.internal")
    assert r.answers[0][1] == "CNAME" and r.addresses == [ix.endpoints["pe-arc-retail"].address_of("gbl.his.arc.azure.com")]
    # a CNAME question is answered by the CNAME itself, not followed
    r = resolve(ix, HUB, "web.contoso.internal", "CNAME")
    assert [(t, d) for _, t, _, d in r.answers] == [("CNAME", "app.contoso.internal")]


def test_a_cname_loop_stops_at_the_chain_limit():
    r = resolve(_ix(), HUB, "loop1.contoso.internal")
    assert (r.rcode, r.failure) == ("SERVFAIL", Failure.LOOP)


@pytest.mark.parametrize("zone", ["contoso.internal", "privatelink.his.arc.azure.com"])
def test_every_zone_has_its_apex_soa_and_ns(zone):
    ix = _ix()
    soa = cat.PRIVATE_ZONE_SOA
    r = resolve(ix, HUB, zone, "SOA")
    assert [(t, ttl, d) for _, t, ttl, d in r.answers] == [
        ("SOA", 3600, "azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10")]
    assert (soa["host"], soa["email"], soa["minimumTtl"]) == ("azureprivatedns.net", "azureprivatedns-host.microsoft.com", 10)
    r = resolve(ix, HUB, zone, "NS")
    assert [(t, d) for _, t, _, d in r.answers] == [("NS", "azureprivatedns.net.")]


def test_an_soa_record_set_changes_the_numbers():
    ix = variant(("privateDnsZones:\n", "privateDnsZones:" + ZONES + "      - {name: '@', type: SOA, ttl: 600, "
                                        "soaRecord: {refreshTime: 7200, minimumTtl: 30}}\n"))
    r = resolve(ix, HUB, "contoso.internal", "SOA")
    assert [(ttl, d) for _, _, ttl, d in r.answers] == [
        (600, "azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 7200 300 2419200 30")]


# --- empty placeholders: NODATA everywhere ---------------------------------------------------------


def test_an_empty_private_zone_record_is_nodata():
    r = resolve(_ix(), HUB, "empty.contoso.internal")
    assert (r.rcode, r.addresses, r.failure, r.authoritative_zone) == ("NOERROR", [], Failure.NODATA, "contoso.internal")


def test_an_empty_on_premises_record_is_nodata_and_hides_the_forwarder():
    ix = variant()
    text_ix = variant((
        "    dns:\n      address: 192.168.10.53\n",
        "    dns:\n      address: 192.168.10.53\n      records: [{name: gbl.his.arc.azure.com, type: A}]\n"))
    assert resolve(ix, AMSTERDAM, "gbl.his.arc.azure.com").addresses  # forwarded without the placeholder
    r = resolve(text_ix, AMSTERDAM, "gbl.his.arc.azure.com")
    assert (r.rcode, r.addresses, r.failure, r.source) == ("NOERROR", [], Failure.NODATA, "manual")


def test_an_empty_record_in_a_hosted_zone_is_nodata_not_nxdomain():
    ix = variant((
        "    dns:\n      address: 192.168.10.53\n",
        "    dns:\n      address: 192.168.10.53\n      zones: [privatelink.his.arc.azure.com]\n"
        "      records: [{name: gbl.privatelink.his.arc.azure.com, type: A}]\n"))
    r = resolve(ix, AMSTERDAM, "gbl.privatelink.his.arc.azure.com")
    assert (r.rcode, r.addresses, r.failure, r.authoritative_zone) == \
        ("NOERROR", [], Failure.NODATA, "privatelink.his.arc.azure.com")
    # a name the hosted zone does not hold is still NXDOMAIN
    assert resolve(ix, AMSTERDAM, "nope.privatelink.his.arc.azure.com").rcode == "NXDOMAIN"
