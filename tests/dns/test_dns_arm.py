"""Changes made through the ARM API (the real azure-mgmt-privatedns SDK) show in the next DNS answer."""

from __future__ import annotations

import dns.rcode
import pytest

from dns_fixtures import FORWARDED_SITE, GOOD, Endpoint, addresses, ask, is_private
from tests.conftest import require_module

ZONE = "privatelink.his.arc.azure.com"
RG = "rg-arc-hub"


@pytest.fixture
def emulator(tmp_path):
    from arclink.stack import start_services
    from arclink.model.loader import load

    svc = start_services(tmp_path / "state", in_memory=True, topology=load(GOOD).topology)
    yield svc
    svc.stop()


@pytest.mark.timeout(120)
def test_zone_link_and_record_changes_through_arm_are_answered_next(emulator):
    require_module("azure.mgmt.privatedns")
    from azure.mgmt.privatedns import PrivateDnsManagementClient
    from azure.mgmt.privatedns.models import ARecord, RecordSet, SubResource, VirtualNetworkLink

    from arclink.sdk import EmulatorCredential, client_kwargs

    ep = emulator.endpoints
    server = Endpoint(ep["dns"]["host"], ep["dns"]["port"])
    path = emulator.state_dir / "endpoints.json"
    from arclink.model.loader import load

    subscription = load(GOOD).default_subscription  # the topology's, seeded into the emulator
    client = PrivateDnsManagementClient(EmulatorCredential(path), subscription, **client_kwargs(path))
    name = "gbl.his.arc.azure.com"

    before = addresses(ask(server, name, client=FORWARDED_SITE))
    assert before and all(is_private(a) for a in before)

    links = list(client.virtual_network_links.list(RG, ZONE))
    assert len(links) == 1
    vnet_id = links[0].virtual_network.id
    client.virtual_network_links.begin_delete(RG, ZONE, links[0].name).result()
    ips = addresses(ask(server, name, client=FORWARDED_SITE))
    assert ips and not any(is_private(a) for a in ips)  # no link: Azure DNS answers publicly

    client.virtual_network_links.begin_create_or_update(
        RG, ZONE, "link-hub", VirtualNetworkLink(location="global", virtual_network=SubResource(id=vnet_id),
                                                 registration_enabled=False)).result()
    assert addresses(ask(server, name, client=FORWARDED_SITE)) == before

    extra = f"extra.{ZONE}"
    assert ask(server, extra, client=FORWARDED_SITE).rcode() == dns.rcode.NXDOMAIN
    client.record_sets.create_or_update(RG, ZONE, "A", "extra",
                                        RecordSet(ttl=30, a_records=[ARecord(ipv4_address="10.10.1.77")]))
    r = ask(server, extra, client=FORWARDED_SITE)
    assert addresses(r) == ["10.10.1.77"] and r.answer[0].ttl == 30


@pytest.mark.timeout(120)
def test_resolve_against_the_emulator_matches_its_dns_server(emulator, capsys):
    import json

    from arclink.cli.main import main

    ep = emulator.endpoints
    server = Endpoint(ep["dns"]["host"], ep["dns"]["port"])
    path = str(emulator.state_dir / "endpoints.json")
    for name in ("gbl.his.arc.azure.com", "dp.kubernetesconfiguration.azure.com"):
        code = main(["resolve", name, "--from", FORWARDED_SITE, "--emulator", path, "--output", "json"])
        doc = json.loads(capsys.readouterr().out)
        assert code == 0 and doc["private"]
        assert doc["addresses"] == addresses(ask(server, name, client=FORWARDED_SITE))
