"""Which client is asking: the EDNS Client Subnet address (trusted from loopback only), else the source.

design.md, "DNS view selection". The scope prefix we echo (RFC 7871 section 7.2.1) says
for how wide a network the answer holds: the modelled network that decided the view, or
the client's own prefix when the answer holds for nothing wider.
"""

from __future__ import annotations

import ipaddress

from arclink.model.index import Index
from arclink.model.resolve import INTERNET, View, view_for
from arclink.net import peer_ip


def source_view(index: Index, address: str | None) -> View:
    """The view for a client address (an address in no modelled network gets the internet)."""
    ip = peer_ip(address)
    return INTERNET if ip is None else view_for(index, str(ip))


def ecs_view(index: Index, address: str, source_prefix: int) -> tuple[View, int]:
    """(view, scope prefix length) for an ECS option carrying ``address/source_prefix``."""
    ip = ipaddress.ip_address(address)
    bits = ip.max_prefixlen
    if source_prefix == 0:
        # RFC 7871 section 7.1.2: /0 means "do not use my address"; we answer for the internet.
        return INTERNET, 0
    view = view_for(index, str(ip))
    owned = [(net, owner) for net, owner in index.owners() if net.version == ip.version]
    if view.kind == "internet":
        client = ipaddress.ip_network(f"{ip}/{source_prefix}", strict=False)
        return view, source_prefix if not any(net.overlaps(client) for net, _ in owned) else bits
    match = next(((net, owner) for net, owner in owned if ip in net), None)
    if match is None:
        return view, bits
    net, owner = match
    # A more specific network of another owner inside it would get another view.
    nested = any(n != net and n.version == net.version and n.subnet_of(net) and o is not owner  # type: ignore[arg-type]
                 for n, o in owned)
    return view, bits if nested else net.prefixlen
