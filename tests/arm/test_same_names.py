"""Through the SDKs: two VNets, scopes, endpoints and zones of the same names in two resource groups
are both in the live model; the DNS server answers each VNet's view, lint reports on both, and the
exported state loads back."""

from __future__ import annotations

import ipaddress

import msgspec
import yaml

from arclink.model.loader import loads

from . import arm_fixtures

NETS = {"rg-a": "10.1", "rg-b": "10.2"}


def _ask(svc, name: str, client: str) -> list[str]:
    import dns.edns
    import dns.message
    import dns.query

    q = dns.message.make_query(name, "A", use_edns=0, options=[dns.edns.ECSOption(client, 32)])
    r = dns.query.udp(q, svc.endpoints["dns"]["host"], port=svc.endpoints["dns"]["port"], timeout=5)
    return sorted(rr.address for rrset in r.answer for rr in rrset if rr.rdtype == 1)


def _build(c, manual: bool) -> None:
    arm_fixtures.start(c, rg="rg-a")
    c.resources.resource_groups.create_or_update("rg-b", {"location": "westeurope"})
    for rg, net in NETS.items():
        vnet = arm_fixtures.vnet(c, rg, "vnet-hub", prefix=f"{net}.0.0/16", subnet=f"{net}.1.0/24")
        scope = arm_fixtures.scope(c, rg, "pls-arc")
        arm_fixtures.endpoint(c, rg, "pe-arc", vnet.id + "/subnets/snet-pe", scope.id, manual=manual)
        arm_fixtures.zone_group(c, rg, "pe-arc", arm_fixtures.zones(c, rg, vnet.id))


def test_same_names_in_two_resource_groups_are_both_live(clients):
    c = clients
    _build(c, manual=False)
    ix = c.svc.live.index
    assert sorted(v.resource_group for v in ix.vnets.named("vnet-hub")) == ["rg-a", "rg-b"]
    assert len(ix.scopes) == 2 and len(ix.zones) == 6
    for pe in ix.endpoints.named("pe-arc"):
        rg = pe.resource_group
        assert (pe.vnet.resource_group, pe.scope.resource_group, {z.resource_group for z in pe.zones}) == (rg, rg, {rg})
        assert pe.records and all(r.address.startswith(NETS[rg] + ".1.") for r in pe.records)
    # each VNet's view answers from its own zone with its own endpoint's address
    for rg, net in NETS.items():
        (address,) = _ask(c.svc, "gbl.his.arc.azure.com", f"{net}.1.200")
        pe = next(p for p in ix.endpoints.named("pe-arc") if p.resource_group == rg)
        assert address == pe.address_of("gbl.his.arc.azure.com")
        assert ipaddress.ip_address(address) in ipaddress.ip_network(f"{net}.1.0/24")
    # the exported state is a topology that loads back with both
    status, doc = c.raw("GET", "/_arclink/state", api_version=None)
    assert status == 200, doc
    again = loads(yaml.safe_dump(msgspec.to_builtins(doc), sort_keys=False), file="exported.yaml")
    assert sorted(again.vnets) == sorted(ix.vnets) and sorted(again.endpoints) == sorted(ix.endpoints)
    assert sorted(again.zones) == sorted(ix.zones)


def test_lint_of_the_live_state_reports_on_both(clients):
    c = clients
    _build(c, manual=True)
    status, doc = c.raw("GET", "/_arclink/lint", api_version=None)
    assert status == 200, doc
    pending = [f for f in doc["findings"] if f["rule"] == "APL019"]
    assert sorted(f["resource"].lower() for f in pending) == sorted(c.svc.live.index.endpoints)
    assert sorted("(rg-a)" in f["message"] for f in pending) == [False, True]
    assert all("private endpoint 'pe-arc' (rg-" in f["message"] for f in pending)
