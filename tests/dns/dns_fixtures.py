"""The DNS tests' world: examples/good.yaml plus the sites and networks that get it wrong, and a client."""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import NamedTuple

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import yaml

from arclink.model.loader import loads

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "examples" / "good.yaml"
SEED_NAMES = ("gbl.his.arc.azure.com", "agentserviceapi.guestconfiguration.azure.com",
              "dp.kubernetesconfiguration.azure.com")
ENDPOINT_SUBNET = ipaddress.ip_network("10.10.1.0/24")  # vnet-hub/snet-endpoints in good.yaml
MANUAL = {"gbl.privatelink.his.arc.azure.com": "10.10.1.201",
          "agentserviceapi.privatelink.guestconfiguration.azure.com": "10.10.1.202",
          "privatelink.dp.kubernetesconfiguration.azure.com": "10.10.1.203"}
BIG_COUNT = 120  # too big for any UDP answer we send
MEDIUM_COUNT = 40  # fits in 1232 bytes, not in 512

# Client addresses, one per situation.
FORWARDED_SITE = "192.168.10.10"  # store-amsterdam: conditional forwarders -> resolver inbound endpoint
PUBLIC_FORWARDER_SITE = "192.168.40.10"  # forwards the Arc zones to 8.8.8.8
SPOKE_VNET = "10.20.0.10"  # Azure-provided DNS, no private zone links
MANUAL_SITE = "192.168.50.10"  # hosts the privatelink zones itself
LEGACY_SITE = "192.168.60.10"  # a non-private-link cluster's network
BROKEN_SITE = "192.168.70.10"  # forwards to a DNS server nobody runs
HUB_VNET = "10.10.1.50"


class Endpoint(NamedTuple):
    """Where a server listens (what ``ask`` needs of a server)."""

    host: str
    port: int


def _arc_forwarders(target: str) -> list:
    return [{"zone": z, "targets": [target]}
            for z in ("his.arc.azure.com", "guestconfiguration.azure.com", "dp.kubernetesconfiguration.azure.com")]


def document() -> dict:
    doc = yaml.safe_load(GOOD.read_text())
    doc = copy.deepcopy(doc)
    doc["virtualNetworks"].append({"name": "vnet-spoke", "addressSpace": ["10.20.0.0/16"],
                                   "subnets": [{"name": "snet-apps", "addressPrefix": "10.20.0.0/24"}]})
    for zone in doc["privateDnsZones"]:
        if zone["name"] == "privatelink.his.arc.azure.com":
            zone["records"] = [{"name": "big", "type": "A", "ttl": 30,
                                "addresses": [f"10.10.2.{i}" for i in range(1, BIG_COUNT + 1)]},
                               {"name": "medium", "type": "A", "ttl": 30,
                                "addresses": [f"10.10.4.{i}" for i in range(1, MEDIUM_COUNT + 1)]}]
    doc["sites"] += [
        {"name": "store-public-forwarder", "addressSpace": ["192.168.40.0/24"],
         "connections": [{"type": "SiteToSiteVPN", "virtualNetwork": "vnet-hub"}],
         "dns": {"address": "192.168.40.53", "conditionalForwarders": _arc_forwarders("8.8.8.8")}},
        {"name": "store-manual", "addressSpace": ["192.168.50.0/24"],
         "connections": [{"type": "SiteToSiteVPN", "virtualNetwork": "vnet-hub"}],
         "dns": {"address": "192.168.50.53",
                 "zones": ["privatelink.his.arc.azure.com", "privatelink.guestconfiguration.azure.com",
                           "privatelink.dp.kubernetesconfiguration.azure.com"],
                 "records": [{"name": n, "type": "A", "ttl": 3600, "addresses": [a]} for n, a in MANUAL.items()]}},
        {"name": "store-legacy", "addressSpace": ["192.168.60.0/24"],
         "dns": {"address": "192.168.60.53"}},
        {"name": "store-broken", "addressSpace": ["192.168.70.0/24"],
         "connections": [{"type": "SiteToSiteVPN", "virtualNetwork": "vnet-hub"}],
         "dns": {"address": "192.168.70.53", "conditionalForwarders": _arc_forwarders("10.99.0.53")}},
    ]
    doc["clusters"].append({"name": "k3s-legacy", "resourceGroup": "rg-arc-clusters", "site": "store-legacy",
                            "address": LEGACY_SITE, "privateLinkState": "Disabled"})
    return doc


def build(doc: dict | None = None):
    return loads(yaml.safe_dump(doc if doc is not None else document()))


def query(name: str, rdtype: str = "A", client: str | None = None, *, edns: bool = True, payload: int = 1232,
          prefix: int = 32) -> dns.message.Message:
    options = [dns.edns.ECSOption(client, prefix)] if client else []
    return dns.message.make_query(name, rdtype, use_edns=0 if (edns or client) else False, payload=payload,
                                  options=options)


def ask(server, name: str, rdtype: str = "A", client: str | None = None, *, tcp: bool = False, **kw):
    q = query(name, rdtype, client, **kw)
    if tcp:
        return dns.query.tcp(q, server.host, port=server.port, timeout=3)
    return dns.query.udp(q, server.host, port=server.port, timeout=3)


def addresses(response) -> list[str]:
    return [rr.address for rrset in response.answer if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
            for rr in rrset]


def is_private(address: str) -> bool:
    return ipaddress.ip_address(address).is_private
