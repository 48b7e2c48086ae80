"""The seed's troubleshooting lookups, asked over the wire from each kind of client."""

from __future__ import annotations

import ipaddress

import dns.flags
import dns.rcode
import pytest

from dns_fixtures import (BROKEN_SITE, ENDPOINT_SUBNET, FORWARDED_SITE, HUB_VNET, LEGACY_SITE, MANUAL, MANUAL_SITE,
                       PUBLIC_FORWARDER_SITE, SEED_NAMES, SPOKE_VNET, addresses, ask, is_private, query)

from arclink.dns.wire import answer
from arclink.model import catalogue as cat


@pytest.mark.parametrize("name", SEED_NAMES)
def test_forwarded_site_gets_private_ips_in_the_endpoint_subnet(server, index, name):
    r = ask(server, name, client=FORWARDED_SITE)
    assert r.rcode() == dns.rcode.NOERROR
    ips = addresses(r)
    assert ips and all(ipaddress.ip_address(a) in ENDPOINT_SUBNET for a in ips)
    # exactly the address the endpoint holds for that FQDN
    assert ips == [index.endpoints["pe-arc-retail"].address_of(name)]
    assert r.flags & dns.flags.AA and r.flags & dns.flags.RA


@pytest.mark.parametrize("client", [PUBLIC_FORWARDER_SITE, SPOKE_VNET, LEGACY_SITE, None],
                         ids=["site-forwarding-to-public-resolver", "vnet-without-zone-link",
                              "non-private-link-cluster-network", "internet"])
@pytest.mark.parametrize("name", SEED_NAMES)
def test_misconfigured_clients_get_public_answers(server, name, client):
    r = ask(server, name, client=client)
    assert r.rcode() == dns.rcode.NOERROR
    ips = addresses(r)
    assert ips and not any(is_private(a) for a in ips)
    assert ips == [cat.public_address(str(r.answer[-1].name).rstrip("."))]
    # the public name is still a CNAME into privatelink, as Azure's public DNS answers it
    assert str(r.answer[0][0].target).startswith(("gbl.privatelink.", "agentserviceapi.privatelink.",
                                                  "privatelink.dp."))
    assert not r.flags & dns.flags.AA


@pytest.mark.parametrize("name", SEED_NAMES)
def test_manual_records_mode_answers_the_manual_records(server, name):
    r = ask(server, name, client=MANUAL_SITE)
    target = str(r.answer[0][0].target).rstrip(".")
    assert addresses(r) == [MANUAL[target]]
    assert r.answer[-1].ttl == 3600  # the manual record's TTL


def test_the_endpoint_vnet_itself_resolves_privately(server):
    r = ask(server, "gbl.his.arc.azure.com", client=HUB_VNET)
    assert all(ipaddress.ip_address(a) in ENDPOINT_SUBNET for a in addresses(r))


def test_chain_that_times_out_is_servfail_with_a_reason(server):
    r = ask(server, "gbl.his.arc.azure.com", client=BROKEN_SITE)
    assert r.rcode() == dns.rcode.SERVFAIL
    assert not r.answer
    ede = [o for o in r.options if o.otype == dns.edns.OptionType.EDE]
    assert ede and "10.99.0.53" in ede[0].text


def test_ecs_scope_is_the_network_that_decided(server):
    r = ask(server, "gbl.his.arc.azure.com", client=FORWARDED_SITE)
    ecs = [o for o in r.options if o.otype == dns.edns.OptionType.ECS][0]
    assert (ecs.address, ecs.srclen, ecs.scopelen) == (FORWARDED_SITE, 32, 24)
    # an internet client: the answer holds for the client's own prefix only
    r = ask(server, "gbl.his.arc.azure.com", client="203.0.113.0", prefix=24)
    ecs = [o for o in r.options if o.otype == dns.edns.OptionType.ECS][0]
    assert (ecs.srclen, ecs.scopelen) == (24, 24)


def test_source_address_selects_the_view_and_remote_ecs_is_not_trusted(index):
    # Only loopback may speak for someone else; a site's machine asking directly is its own view.
    q = query("gbl.his.arc.azure.com", client=SPOKE_VNET).to_wire()
    from_site = dns.message.from_wire(answer(index, None, q, source=FORWARDED_SITE))
    assert all(ipaddress.ip_address(a) in ENDPOINT_SUBNET for a in addresses(from_site))
    ecs = [o for o in from_site.options if o.otype == dns.edns.OptionType.ECS][0]
    assert ecs.scopelen == 0  # ignored, as RFC 7871 says
    from_loopback = dns.message.from_wire(answer(index, None, q, source="127.0.0.1"))
    assert not any(is_private(a) for a in addresses(from_loopback))


def test_other_names_get_modelled_public_answers_and_unknown_ones_are_refused(server):
    for name in ("management.azure.com", "login.microsoftonline.com", "mcr.microsoft.com"):
        r = ask(server, name, client=FORWARDED_SITE)
        assert addresses(r) == [cat.public_address(name)]
    r = ask(server, "www.example.org", client=FORWARDED_SITE)
    assert r.rcode() == dns.rcode.REFUSED


def test_every_cluster_gets_what_explain_says_it_resolves(server, index):
    from arclink.model.trace import cluster_trace

    for cluster in index.clusters.values():
        for trace in cluster_trace(index, cluster).names:
            r = ask(server, trace.fqdn, client=cluster.address)
            assert dns.rcode.to_text(r.rcode()) == trace.resolution.rcode
            assert addresses(r) == trace.resolution.addresses, (cluster.name, trace.fqdn)
