"""Many simulated clusters: a topology for them, and their agents running in one event loop.

``fleet_topology(sites)`` is a correct private-link rollout (one hub VNet, one scope, one
private endpoint with zone integration, a resolver inbound endpoint) plus ``sites``
store sites, each with its DNS forwarding to the resolver: every cluster placed there
should connect through the private endpoint. Sites get /22s from 172.16.0.0/12.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass, field
from typing import Callable

import msgspec

from arclink.model import catalogue as cat, schema

SUBSCRIPTION = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"
HUB_RG, CLUSTER_RG, LOCATION, SCOPE = "rg-arc-hub", "rg-arc-fleet", "westeurope", "pls-arc-fleet"
FORWARDER_IP = "10.10.3.4"
MAX_SITES = 1024
_SITE_BLOCK = ipaddress.ip_network("172.16.0.0/12")


def site_name(i: int) -> str:
    return f"store-{i:04d}"


def site_prefix(i: int) -> ipaddress.IPv4Network:
    return ipaddress.ip_network((int(_SITE_BLOCK.network_address) + i * 1024, 22))


def cluster_address(site: int, k: int) -> str:
    """The k-th cluster of a site: .10 onwards in its /22 (about 1,000 per site)."""
    return str(site_prefix(site).network_address + 10 + k)


def scope_id() -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{HUB_RG}/providers/Microsoft.HybridCompute/privateLinkScopes/{SCOPE}"


def arc_private_zones() -> list[str]:
    """The three privatelink zones a hub hosts for the Arc endpoints."""
    return [z.private_zone for z in cat.ARC_ZONES]


def private_link_site(name: str, prefix: str, dns_address: str, forwarder_ip: str, *,
                      connection: str = "SiteToSiteVPN", vnet: str = "vnet-hub") -> dict:
    """A site set up as the seed says: a private path to the hub, its DNS forwarding the Arc zones
    to the hub's resolver, its firewall open to the required service tags."""
    return {"name": name, "addressSpace": [prefix],
            "connections": [{"type": connection, "virtualNetwork": vnet}],
            "dns": {"address": dns_address,
                    "conditionalForwarders": [{"zone": z.public_zone, "targets": [forwarder_ip]} for z in cat.ARC_ZONES]},
            "firewall": {"outbound": list(cat.REQUIRED_SERVICE_TAGS), "inbound": list(cat.INBOUND_SERVICE_TAGS)}}


def hub_document(subscription: str, *, label: str, cluster_rg: str, scope: str, endpoint: str, sites: list[dict],
                 hub_rg: str = HUB_RG, location: str = LOCATION) -> dict:
    """A correct private-link hub as a topology document, plus ``sites``: one VNet with an endpoint
    subnet and a resolver inbound endpoint (``FORWARDER_IP``), a scope with public access disabled,
    its private endpoint with zone integration, the three Arc zones linked to the VNet."""
    zones = arc_private_zones()
    return {
        "defaults": {"subscription": subscription, "resourceGroup": hub_rg, "location": location},
        "subscriptions": [{"id": subscription, "name": label, "registeredProviders": [
            "Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration", "Microsoft.HybridCompute", "Microsoft.Network"]}],
        "resourceGroups": [{"name": hub_rg, "location": location}, {"name": cluster_rg, "location": location}],
        "virtualNetworks": [{"name": "vnet-hub", "addressSpace": ["10.10.0.0/16"], "subnets": [
            {"name": "snet-endpoints", "addressPrefix": "10.10.1.0/24"},
            {"name": "snet-dns-inbound", "addressPrefix": "10.10.3.0/28"}]}],
        "privateLinkScopes": [{"name": scope, "publicNetworkAccess": "Disabled"}],
        "privateDnsZones": [{"name": z, "virtualNetworkLinks": [{"virtualNetwork": "vnet-hub"}]} for z in zones],
        "privateEndpoints": [{"name": endpoint, "subnet": "vnet-hub/snet-endpoints", "privateLinkServiceId": scope,
                              "groupIds": [cat.ARC_GROUP_ID], "privateDnsZoneGroup": zones}],
        "dnsForwarders": [{"name": "dnspr-hub-inbound", "kind": "privateResolverInbound",
                           "virtualNetwork": "vnet-hub", "ipAddress": FORWARDER_IP}],
        "sites": sites,
    }


def fleet_topology(sites: int, clusters: list[schema.Cluster] | None = None) -> schema.Topology:
    if not 1 <= sites <= MAX_SITES:
        raise ValueError(f"--sites must be between 1 and {MAX_SITES}")
    doc = hub_document(SUBSCRIPTION, label="fleet", cluster_rg=CLUSTER_RG, scope=SCOPE, endpoint="pe-arc-fleet",
                       sites=[private_link_site(site_name(i), str(site_prefix(i)),
                                                str(site_prefix(i).network_address + 53), FORWARDER_IP)
                              for i in range(sites)])
    topo = msgspec.convert(doc, schema.Topology)
    return msgspec.structs.replace(topo, clusters=list(clusters or []))


def fleet_cluster(i: int, sites: int, public_key_b64: str | None = None) -> schema.Cluster:
    """Cluster i of a fleet: round-robin over the sites, associated with the fleet's scope."""
    s, k = i % sites, i // sites
    return schema.Cluster(name=f"k3s-{i:05d}", resource_group=CLUSTER_RG, site=site_name(s),
                          address=cluster_address(s, k), private_link_state="Enabled",
                          private_link_scope_resource_id=scope_id(), extensions=["microsoft.flux"],
                          agent_public_key_certificate=public_key_b64)


@dataclass
class FleetResult:
    connected: int = 0
    refused: dict = field(default_factory=dict)  # code -> count
    heartbeats: int = 0
    seconds: float = 0.0


async def run_agents(agents: list, *, concurrency: int = 200, duration: float = 0.0,
                     progress: Callable[[int], None] | None = None) -> FleetResult:
    """Connect every agent (``concurrency`` handshakes at a time); with ``duration``, keep them heartbeating."""
    res = FleetResult()
    start = time.monotonic()
    sem = asyncio.Semaphore(concurrency)

    async def first(a):
        async with sem:
            rep = await a.run_once()
        if progress:
            progress(1)
        return rep

    if duration > 0:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(duration, stop.set)
        seen = set()

        def changed(rep):
            if progress and rep.cluster not in seen:
                seen.add(rep.cluster)
                progress(1)
        reports = await asyncio.gather(*(a.run_forever(stop, open_gate=sem, on_change=changed) for a in agents))
    else:
        reports = await asyncio.gather(*(first(a) for a in agents))
    for rep in reports:
        res.heartbeats += rep.heartbeats
        if rep.status == "Connected":
            res.connected += 1
        else:
            code = rep.last_error.code if rep.last_error else "Unknown"
            res.refused[code] = res.refused.get(code, 0) + 1
    res.seconds = time.monotonic() - start
    return res
