"""Routes from an on-premises site into Azure: the one decision of which VNets a site reaches.

A site reaches the VNet its VPN or ExpressRoute connection lands on. It reaches a VNet peered
with that one only through gateway transit, as in Azure: the landing VNet's side of the peering
allows gateway transit (``allowGatewayTransit``) and the peered VNet's side uses the remote
gateways (``useRemoteGateways``). ``resolve.site_reaches``, ``reach()``, the rules and the NSG
``VirtualNetwork`` tag all ask here.
"""

from __future__ import annotations

from dataclasses import dataclass

from arclink.model.errors import TopologyError
from arclink.model.resolved import Index, SiteR, VNetR


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


# The API's description of useRemoteGateways: "Only one peering can have this flag set to true. This
# flag cannot be set if virtual network already has a gateway." Azure's error codes for these two
# refusals are not documented; these are arclink's choice (RemoteVnetHasNoGateways is Azure's own).
HAS_OWN_GATEWAY = "VirtualNetworkHasGatewayCannotUseRemoteGateways"
SECOND_REMOTE_GATEWAY = "OnlyOnePeeringCanUseRemoteGateways"


def remote_gateway_problem(has_own_gateway: bool, others_using: list[str]) -> tuple[str, str] | None:
    """Why a peering side may not set useRemoteGateways: (code, what the VNet does) or None. ``others_using``:
    the names of the VNet's other peerings (or peers) that already set it, in the order written."""
    if has_own_gateway:
        return HAS_OWN_GATEWAY, "already has a gateway of its own"
    if others_using:
        return SECOND_REMOTE_GATEWAY, f"already uses remote gateways over its peering '{others_using[0]}'"
    return None


def remote_gateways_refused(ix: Index, vnet: VNetR) -> str | None:
    """Why Azure would refuse ``useRemoteGateways`` on another peering of ``vnet`` (what the VNet
    does), or None. A VNet has a gateway of its own when an on-premises site's connection lands on it."""
    landed = any(v is vnet for s in ix.sites.values() for _, v in s.connections)
    using = [peer.name for peer in vnet.peers if vnet.side(peer).use_remote_gateways]
    found = remote_gateway_problem(landed, using)
    return found[1] if found is not None else None


def topology_remote_gateways(ix: Index) -> TopologyError | None:
    """The first peering side of a topology file that sets useRemoteGateways where Azure refuses it.
    A VNet has a gateway of its own when an on-premises site's connection lands on it."""
    landed = {id(v) for s in ix.sites.values() for _, v in s.connections}
    for v in ix.vnets.values():
        using: list[str] = []
        for k, entry in enumerate(v.spec.peerings):
            if isinstance(entry, str) or not entry.use_remote_gateways:
                continue
            found = remote_gateway_problem(id(v) in landed, using)
            if found is not None:
                code, why = found
                return TopologyError(
                    f"virtual network '{v.name}' cannot use remote gateways over its peering with "
                    f"'{entry.virtual_network}': it {why}; only one peering of a VNet without a gateway can set "
                    "useRemoteGateways.", path=f"{v.path}.peerings[{k}].useRemoteGateways", code=code)
            using.append(entry.virtual_network)
    return None
