"""Routes from an on-premises site into Azure: the one decision of which VNets a site reaches.

A site reaches the VNet its VPN or ExpressRoute connection lands on. It reaches a VNet peered
with that one only through gateway transit, as in Azure: the landing VNet's side of the peering
allows gateway transit (``allowGatewayTransit``) and the peered VNet's side uses the remote
gateways (``useRemoteGateways``). ``resolve.site_reaches``, ``reach()``, the rules and the NSG
``VirtualNetwork`` tag all ask here.
"""

from __future__ import annotations

from dataclasses import dataclass

from arclink.model.resolved import SiteR, VNetR


@dataclass(frozen=True)
class Route:
    kind: str  # the connection's type: ExpressRoute or SiteToSiteVPN
    landing: VNetR  # the VNet the connection lands on
    target: VNetR  # the VNet reached: the landing VNet or one peered with it

    def describe(self) -> str:
        via = f"{self.kind} to '{self.landing.name}'"
        return via if self.target is self.landing else f"{via}, peered with '{self.target.name}' (gateway transit)"


@dataclass(frozen=True)
class MissingFlag:
    """A flag one side of a peering lacks for the site's traffic to cross it."""

    vnet: VNetR  # whose side of the peering lacks the flag
    peer: VNetR
    flag: str  # allowGatewayTransit or useRemoteGateways

    def describe(self) -> str:
        return f"the peering of '{self.vnet.name}' with '{self.peer.name}' does not set {self.flag}"


def transits(landing: VNetR, target: VNetR) -> bool:
    """Does traffic arriving on ``landing``'s gateway cross its peering to ``target``?"""
    return target in landing.peers and landing.side(target).allow_gateway_transit \
        and target.side(landing).use_remote_gateways


def missing_flags(landing: VNetR, target: VNetR) -> list[MissingFlag]:
    """What the peering between a landing VNet and ``target`` lacks for gateway transit (both sides)."""
    out = []
    if not landing.side(target).allow_gateway_transit:
        out.append(MissingFlag(landing, target, "allowGatewayTransit"))
    if not target.side(landing).use_remote_gateways:
        out.append(MissingFlag(target, landing, "useRemoteGateways"))
    return out


def site_route(site: SiteR, vnet: VNetR) -> Route | None:
    """The site's route to ``vnet`` (a direct landing first), or None."""
    for kind, v in site.connections:
        if v is vnet:
            return Route(kind, v, vnet)
    for kind, v in site.connections:
        if transits(v, vnet):
            return Route(kind, v, vnet)
    return None


def blocked_transit(site: SiteR, vnet: VNetR) -> list[tuple[str, VNetR, list[MissingFlag]]]:
    """The site's connections that land on a VNet peered with ``vnet`` but lack gateway transit:
    (connection type, landing VNet, the flags missing)."""
    return [(kind, v, missing_flags(v, vnet)) for kind, v in site.connections
            if v is not vnet and vnet in v.peers and not transits(v, vnet)]
