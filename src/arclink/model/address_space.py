"""Address ranges Azure refuses to overlap: subnets of one VNet, and VNets joined by peering.

One decision for the topology file (``topology_overlap``, which the loader raises with file and
line) and for the emulator (``subnet_clash`` and ``peering_overlap``, which
``arm/resources/networks.py`` refuses with), with Azure's codes:

- ``NetcfgSubnetRangesOverlap``: a subnet's range overlaps another subnet's in the same VNet;
- ``VnetAddressSpacesOverlap``: two VNets to be peered have overlapping address spaces;
- ``VnetAddressSpaceOverlapsWithAlreadyPeeredVnet``: one of them overlaps a VNet already peered
  with the other.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable, Sequence

from arclink.model.errors import TopologyError
from arclink.model.resolved import Index, VNetR

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SUBNETS_OVERLAP = "NetcfgSubnetRangesOverlap"
PEERED_SPACES_OVERLAP = "VnetAddressSpacesOverlap"
OVERLAPS_ALREADY_PEERED = "VnetAddressSpaceOverlapsWithAlreadyPeeredVnet"


def overlapping(a: Iterable[Network], b: Iterable[Network]) -> list[str]:
    """The prefixes where two sets of ranges overlap (the smaller of each overlapping pair), as Azure lists them."""
    out: list[str] = []
    bs = list(b)
    for x in a:
        for y in bs:
            if x.version == y.version and x.overlaps(y):
                smaller = str(x if x.prefixlen >= y.prefixlen else y)
                if smaller not in out:
                    out.append(smaller)
    return out


def subnet_clash(net: Network, others: Iterable[tuple[str, Network]]) -> str | None:
    """The name of the first other subnet whose range overlaps ``net``, or None."""
    return next((name for name, other in others if overlapping([net], [other])), None)


@dataclass(frozen=True)
class PeeringOverlap:
    code: str  # PEERED_SPACES_OVERLAP or OVERLAPS_ALREADY_PEERED
    prefixes: list[str]
    other: str = ""  # OVERLAPS_ALREADY_PEERED: the VNet already peered that overlaps
    second: bool = False  # OVERLAPS_ALREADY_PEERED: the remote VNet overlaps a peer of the local one


def peering_overlap(local: Sequence[Network], remote: Sequence[Network],
                    local_peers: Iterable[tuple[str, Sequence[Network]]],
                    remote_peers: Iterable[tuple[str, Sequence[Network]]]) -> PeeringOverlap | None:
    """Why Azure refuses to peer ``local`` with ``remote``, or None.

    ``local_peers`` / ``remote_peers``: (name or id, address space) of the VNets each is already
    peered with, not counting each other.
    """
    both = overlapping(local, remote)
    if both:
        return PeeringOverlap(PEERED_SPACES_OVERLAP, both)
    for name, nets in remote_peers:
        hit = overlapping(local, nets)
        if hit:
            return PeeringOverlap(OVERLAPS_ALREADY_PEERED, hit, name)
    for name, nets in local_peers:
        hit = overlapping(remote, nets)
        if hit:
            return PeeringOverlap(OVERLAPS_ALREADY_PEERED, hit, name, second=True)
    return None


def topology_overlap(ix: Index) -> TopologyError | None:
    """The first overlap a topology file has that Azure would refuse, with its JSON path; or None.

    Subnets in the order written; peerings in the order written, each checked against the
    peerings before it, as Azure would see them created one by one.
    """
    for v in ix.vnets.values():
        seen: list[tuple[str, Network]] = []
        for s in v.subnets.values():
            other = subnet_clash(s.network, seen)
            if other is not None:
                return TopologyError(
                    f"subnet '{s.name}' ({s.spec.address_prefix}) overlaps subnet '{other}' in virtual network "
                    f"'{v.name}'; give each subnet its own range.", path=f"{s.path}.addressPrefix", code=SUBNETS_OVERLAP)
            seen.append((s.name, s.network))
    peered: dict[int, list[VNetR]] = {}
    for v in ix.vnets.values():
        for k, entry in enumerate(v.spec.peerings):
            peer = ix.vnet(entry if isinstance(entry, str) else entry.virtual_network)
            if peer is None or peer in peered.get(id(v), []):
                continue
            found = peering_overlap(v.networks, peer.networks,
                                    [(p.name, p.networks) for p in peered.get(id(v), []) if p is not peer],
                                    [(p.name, p.networks) for p in peered.get(id(peer), []) if p is not v])
            if found is not None:
                return TopologyError(_peering_problem(v, peer, found), path=f"{v.path}.peerings[{k}]", code=found.code)
            peered.setdefault(id(v), []).append(peer)
            peered.setdefault(id(peer), []).append(v)
    return None


def _peering_problem(v: VNetR, other: VNetR, found: PeeringOverlap) -> str:
    prefixes = ", ".join(found.prefixes)
    if found.code == PEERED_SPACES_OVERLAP:
        return (f"virtual networks '{v.name}' and '{other.name}' cannot be peered: their address spaces overlap "
                f"({prefixes}); give each its own range.")
    first, second = (other, v) if found.second else (v, other)
    return (f"virtual networks '{v.name}' and '{other.name}' cannot be peered: '{first.name}' overlaps "
            f"'{found.other}', which is already peered with '{second.name}' ({prefixes}); give each its own range "
            "or remove one of the peerings.")
