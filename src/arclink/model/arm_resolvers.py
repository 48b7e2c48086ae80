"""DNS private resolvers in ARM -> the topology's DNS forwarders (a part of ``arm_codec``'s reading).

An inbound endpoint (``Microsoft.Network/dnsResolvers/inboundEndpoints``) is what on-premises DNS
servers forward to: each of its addresses is a ``privateResolverInbound`` forwarder in the
resolver's virtual network. Shapes as the dnsresolver API (2022-07-01) answers them:
``properties.virtualNetwork.id`` on the resolver, ``properties.ipConfigurations[].privateIpAddress``
on the endpoint.
"""

from __future__ import annotations

from typing import Any, Callable

from arclink.model.index import parse_arm_id

T_RESOLVER = "microsoft.network/dnsresolvers"
T_INBOUND = "microsoft.network/dnsresolvers/inboundendpoints"


def _props(r: dict) -> dict:
    p = r.get("properties")
    return p if isinstance(p, dict) else {}


def resolver_inbounds(resolvers: list[dict], inbounds_of: Callable[[dict], list[dict]]) -> list[dict[str, Any]]:
    """One forwarder per inbound address (named after the endpoint, ``-N`` when it has several)."""
    out: list[dict[str, Any]] = []
    for r in resolvers:
        vnet = _props(r).get("virtualNetwork")
        vnet_id = vnet.get("id") if isinstance(vnet, dict) else None
        for ep in inbounds_of(r):
            name = ep.get("name") or str(ep.get("id", "")).rsplit("/", 1)[-1]
            parts = parse_arm_id(ep.get("id", "")) or {}
            place = {k: v for k, v in (("subscription", parts.get("sub")), ("resourceGroup", parts.get("rg")),
                                       ("location", ep.get("location") or r.get("location"))) if v}
            configs = [c for c in _props(ep).get("ipConfigurations") or []
                       if isinstance(c, dict) and c.get("privateIpAddress")]
            for k, c in enumerate(configs):
                out.append({"name": name if len(configs) == 1 else f"{name}-{k + 1}", "kind": "privateResolverInbound",
                            "virtualNetwork": vnet_id or "", "ipAddress": c["privateIpAddress"], **place})
    return out
