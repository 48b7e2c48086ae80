"""Changes to the live state show in the very next answer, without a restart."""

from __future__ import annotations

import dns.rcode

from dns_fixtures import FORWARDED_SITE, addresses, ask, build, document, is_private

from arclink.dns.server import start_dns_server
from arclink.model.live import LiveState


def _zone(doc, name):
    return next(z for z in doc["privateDnsZones"] if z["name"] == name)


def test_published_changes_are_answered_next():
    doc = document()
    live = LiveState(build(doc))
    with start_dns_server(live) as server:
        name = "gbl.his.arc.azure.com"
        first = addresses(ask(server, name, client=FORWARDED_SITE))
        assert first and all(is_private(a) for a in first)
        ask(server, name, client=FORWARDED_SITE)  # now cached

        # the zone link is removed: Azure DNS of the hub answers publicly
        _zone(doc, "privatelink.his.arc.azure.com")["virtualNetworkLinks"] = []
        live.publish(build(doc))
        ips = addresses(ask(server, name, client=FORWARDED_SITE))
        assert ips and not any(is_private(a) for a in ips)

        # linked again, with a record written by hand that wins over nothing
        _zone(doc, "privatelink.his.arc.azure.com")["virtualNetworkLinks"] = [{"virtualNetwork": "vnet-hub"}]
        _zone(doc, "privatelink.his.arc.azure.com")["records"] = [{"name": "extra", "addresses": ["10.10.1.99"]}]
        live.publish(build(doc))
        assert addresses(ask(server, name, client=FORWARDED_SITE)) == first
        assert addresses(ask(server, "extra.privatelink.his.arc.azure.com", client=FORWARDED_SITE)) == ["10.10.1.99"]

        # a second endpoint in a new subnet replaces the zone group's records
        doc["virtualNetworks"][0]["subnets"].append({"name": "snet-pe2", "addressPrefix": "10.10.5.0/24"})
        doc["privateEndpoints"].append({"name": "pe-arc-2", "subnet": "vnet-hub/snet-pe2",
                                        "privateLinkServiceId": "pls-arc-retail",
                                        "privateDnsZoneGroup": ["privatelink.his.arc.azure.com"]})
        live.publish(build(doc))
        ips = addresses(ask(server, name, client=FORWARDED_SITE))
        assert ips and ips[0].startswith("10.10.5.")

        # the record is gone: NXDOMAIN from the private zone
        doc["privateEndpoints"] = [e for e in doc["privateEndpoints"] if e["name"] not in ("pe-arc-retail", "pe-arc-2")]
        live.publish(build(doc))
        assert ask(server, name, client=FORWARDED_SITE).rcode() == dns.rcode.NXDOMAIN


def test_caches_stay_bounded(monkeypatch):
    import arclink.dns.cache as srv

    monkeypatch.setattr(srv, "WIRE_CACHE_ENTRIES", 50)
    with start_dns_server(build()) as server:
        for i in range(120):
            ask(server, f"n{i}.his.arc.azure.com", client=FORWARDED_SITE)
        assert ask(server, "gbl.his.arc.azure.com", client=FORWARDED_SITE).rcode() == dns.rcode.NOERROR
        assert len(server.cache.wire) <= 50
