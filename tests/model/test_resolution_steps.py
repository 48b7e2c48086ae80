"""resolve() records what each step is about as data: kind, target, failure.

The doctor and the rules decide from these fields, so they are pinned here for the chains
that matter: a forwarder in Azure answering from a private zone, a site forwarding to a public
resolver, recursion on the internet, a hosted zone without the record, a CNAME loop and a
forwarder the site cannot reach.
"""

from __future__ import annotations

from arclink.doctor import diagnose
from arclink.model import catalogue as cat
from arclink.model.loader import loads
from arclink.model.resolve import Resolution, View, resolve
from arclink.model.rules import _private_path
from arclink.model.steps import Failure, Step, StepKind

NAME = "gbl.his.arc.azure.com"
ZONE = "privatelink.his.arc.azure.com"

TOPOLOGY = """
virtualNetworks:
  - name: vnet-hub
    addressSpace: [10.10.0.0/16]
    subnets:
      - {name: snet-endpoints, addressPrefix: 10.10.1.0/24}
      - {name: snet-dns-inbound, addressPrefix: 10.10.3.0/28}
privateLinkScopes:
  - name: pls-arc
privateDnsZones:
  - name: privatelink.his.arc.azure.com
    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]
privateEndpoints:
  - name: pe-arc
    subnet: vnet-hub/snet-endpoints
    privateLinkServiceId: pls-arc
    privateDnsZoneGroup: [privatelink.his.arc.azure.com]
dnsForwarders:
  - {name: dnspr-hub, kind: privateResolverInbound, virtualNetwork: vnet-hub, ipAddress: 10.10.3.4}
sites:
  - name: site-good
    addressSpace: [192.168.10.0/24]
    connections: [{type: ExpressRoute, virtualNetwork: vnet-hub}]
    dns:
      address: 192.168.10.53
      conditionalForwarders: [{zone: his.arc.azure.com, targets: [10.10.3.4]}]
  - name: site-public
    addressSpace: [192.168.20.0/24]
    connections: [{type: ExpressRoute, virtualNetwork: vnet-hub}]
    dns: {address: 192.168.20.53, upstream: 8.8.8.8}
  - name: site-recursion
    addressSpace: [192.168.30.0/24]
    dns: {address: 192.168.30.53}
  - name: site-hosts
    addressSpace: [192.168.40.0/24]
    dns: {address: 192.168.40.53, zones: [his.arc.azure.com]}
  - name: site-loop
    addressSpace: [192.168.50.0/24]
    dns:
      address: 192.168.50.53
      records:
        - {name: gbl.his.arc.azure.com, type: CNAME, cname: a.example.internal}
        - {name: a.example.internal, type: CNAME, cname: gbl.his.arc.azure.com}
  - name: site-cut-off
    addressSpace: [192.168.60.0/24]
    dns:
      address: 192.168.60.53
      conditionalForwarders: [{zone: his.arc.azure.com, targets: [10.10.3.4]}]
"""


def _resolve(site: str) -> Resolution:
    return resolve(loads(TOPOLOGY), View("site", site), NAME)


def _kinds(res: Resolution) -> list[StepKind]:
    return [s.kind for s in res.steps]


def test_forwarder_in_azure_answers_from_the_private_zone():
    res = _resolve("site-good")
    assert res.rcode == "NOERROR" and res.private
    # public DNS gives the CNAME into privatelink, the zone linked to the forwarder's VNet the address
    assert _kinds(res) == [StepKind.CONDITIONAL_FORWARDER, StepKind.RESOLVER_INBOUND, StepKind.PUBLIC_DNS,
                           StepKind.PRIVATE_ZONE]
    # a private zone step names the zone by its ARM id: zones of one name may be in several resource groups
    assert [s.target for s in res.steps][:3] == ["10.10.3.4", "10.10.3.4", None]
    assert res.steps[-1].target.lower().endswith(f"/providers/microsoft.network/privatednszones/{ZONE}")
    assert all(s.failure is None for s in res.steps) and res.failure is None


def test_forwarding_to_a_public_resolver_names_its_address():
    res = _resolve("site-public")
    forwards = [s for s in res.steps if s.kind is StepKind.PUBLIC_RESOLVER]
    assert [s.target for s in forwards] == ["8.8.8.8"]
    assert res.steps[0].kind is StepKind.ON_PREM_SERVER and res.steps[0].target == "8.8.8.8"
    assert res.steps[-1].kind is StepKind.PUBLIC_DNS and not res.private


def test_recursion_on_the_internet_is_its_own_kind():
    res = _resolve("site-recursion")
    assert StepKind.RECURSION in _kinds(res)
    assert StepKind.PUBLIC_RESOLVER not in _kinds(res)


def test_hosted_zone_without_the_record_is_nxdomain_from_that_zone():
    res = _resolve("site-hosts")
    last = res.steps[-1]
    assert res.rcode == "NXDOMAIN"
    assert (last.kind, last.target, last.failure) == (StepKind.HOSTED_ZONE, "his.arc.azure.com", Failure.NXDOMAIN)


def test_cname_loop_ends_in_the_chain_limit():
    res = _resolve("site-loop")
    assert res.rcode == "SERVFAIL"
    assert StepKind.MANUAL_RECORD in _kinds(res)
    assert (res.steps[-1].kind, res.failure) == (StepKind.CHAIN_LIMIT, Failure.LOOP)


def test_forwarder_without_a_path_times_out():
    res = _resolve("site-cut-off")
    last = res.steps[-1]
    assert res.rcode == "SERVFAIL"
    assert (last.kind, last.target, last.failure) == (StepKind.RESOLVER_INBOUND, "10.10.3.4", Failure.TIMEOUT)


def test_decisions_read_the_fields_not_the_sentences():
    # Sentences that say nothing the old wording matches: the decisions must still follow the fields.
    ix = loads(TOPOLOGY)
    site = ix.site("site-public")
    zone = cat.arc_zone_for(NAME)
    res = Resolution(NAME, "A", answers=[(NAME, "A", 60, "20.50.1.1")], source="public", first_server="192.168.20.53")
    res.steps = [Step("server", "hands it on", StepKind.PUBLIC_RESOLVER, "9.9.9.9"),
                 Step("elsewhere", "answers", StepKind.PUBLIC_DNS)]
    why, _ = diagnose._explain_public(ix, site, zone, res)
    assert "public resolver (9.9.9.9)" in why

    res.steps = [Step("server", "looks it up itself", StepKind.RECURSION)]
    why, _ = diagnose._explain_public(ix, site, zone, res)
    assert "resolves it on the internet" in why

    failed = Resolution(NAME, "A", rcode="SERVFAIL", steps=[Step("server", "gives up", StepKind.UNMODELLED_SERVER,
                                                                 "10.1.1.1", Failure.TIMEOUT)])
    assert _private_path.outcome(ix, failed) == "times out"
    failed.steps[-1].failure = Failure.UNREACHABLE
    assert _private_path.outcome(ix, failed) == "SERVFAIL"

    nx = Resolution(NAME, "A", rcode="NXDOMAIN", first_server="192.168.40.53",
                    steps=[Step("server", "no", StepKind.HOSTED_ZONE, "his.arc.azure.com", Failure.NXDOMAIN)])
    assert "add the A records listed" in diagnose._explain_resolution(ix, site, zone, NAME, nx)
    nx.steps[-1].kind = StepKind.PRIVATE_ZONE
    assert "DNS zone group" in diagnose._explain_resolution(ix, site, zone, NAME, nx)
