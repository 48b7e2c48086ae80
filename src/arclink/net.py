"""Address checks shared by every part of arclink: is this loopback, is this a private address.

Everything arclink starts listens on loopback and every connection it makes goes to
loopback (design.md, "Safety of the network"); these are the checks that hold it to that.
Two notions of "loopback" exist on purpose:

- ``is_loopback``: a host as people and ``endpoints.json`` write it. "localhost" counts.
- ``is_loopback_address``: an address as a socket reports it (or a literal that must be
  dialled as given). A zone id is dropped and an IPv4-mapped IPv6 address unwrapped;
  names, "localhost" included, are not addresses.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

__all__ = ["IPAddress", "is_loopback", "is_loopback_address", "is_private", "loopback_bind_address", "peer_ip"]


def peer_ip(address: str | None) -> IPAddress | None:
    """The address (zone id dropped, IPv4-mapped IPv6 unwrapped), or None when it is not one."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_loopback_address(address: str | None) -> bool:
    """True for a loopback address literal (127.0.0.0/8, ::1, also as ::ffff:127.x or with a zone id)."""
    ip = peer_ip(address)
    return ip is not None and ip.is_loopback


def is_loopback(host: str | None) -> bool:
    """True for "localhost" or a loopback address literal; names other than "localhost" are not looked up."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def loopback_bind_address(host: str) -> str | None:
    """The address to bind for ``host`` ("localhost" is 127.0.0.1), or None when it is not loopback."""
    if host == "localhost":
        return "127.0.0.1"
    return host if is_loopback(host) else None


def is_private(address: str) -> bool:
    """A private address (RFC 1918, RFC 4193, ...) other than loopback; False for anything that is not an address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_private and not ip.is_loopback
