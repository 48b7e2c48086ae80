"""Which zone an answer speaks for, and that zone's SOA (for NXDOMAIN and NODATA).

The server only answers inside the namespace arclink models: the Arc zones (public and
``privatelink.``), the private DNS zones and on-premises zones of the topology, and the
zones of the public names in the catalogue (``azure.com``, ``microsoftonline.com``...).
A name outside all of them is REFUSED: nothing is forwarded to the real internet, and an
invented NXDOMAIN for a real name would be a lie.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from arclink.model import catalogue as cat
from arclink.model.index import Index
from arclink.model.resolve import _public_names


@dataclass(frozen=True)
class Soa:
    zone: str
    mname: str
    rname: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int
    ttl: int

    @property
    def negative_ttl(self) -> int:
        # RFC 2308 section 5: negative answers live min(SOA TTL, SOA MINIMUM).
        return min(self.ttl, self.minimum)

    def rdata_text(self) -> str:
        return f"{self.mname}. {self.rname}. {self.serial} {self.refresh} {self.retry} {self.expire} {self.minimum}"


def private_zone_soa(zone: str) -> Soa:
    # The SOA every Azure private DNS zone gets (one fact: the catalogue's).
    f = cat.PRIVATE_ZONE_SOA
    return Soa(zone, str(f["host"]), str(f["email"]), int(f["serialNumber"]), int(f["refreshTime"]),
               int(f["retryTime"]), int(f["expireTime"]), int(f["minimumTtl"]), int(f["ttl"]))


def public_zone_soa(zone: str) -> Soa:
    # Azure public DNS style; the numbers are the Azure DNS defaults.
    return Soa(zone, "ns1-01.azure-dns.com", "azuredns-hostmaster.microsoft.com", 1, 3600, 300, 2419200, 300, 3600)


def site_zone_soa(zone: str) -> Soa:
    return Soa(zone, f"ns.{zone}", f"hostmaster.{zone}", 1, 3600, 600, 86400, 300, 3600)


@lru_cache(maxsize=1)
def _public_zones() -> frozenset[str]:
    zones = set(cat.ARC_PUBLIC_ZONES) | set(cat.ARC_PRIVATE_ZONES)
    for name in _public_names():
        labels = name.split(".")
        zones.add(".".join(labels[-2:]))  # the registrable domain: azure.com, microsoftonline.com ...
    return frozenset(zones)


def _zones_of(index: Index) -> frozenset[str]:
    """Every zone the topology and the catalogue know, memoised on the index (it never changes once built)."""
    hit = index.__dict__.get("_dns_zones")
    if hit is None:
        zones = set(_public_zones()) | set(index.zones)
        for site in index.sites.values():
            zones.update(z.rstrip(".").lower() for z in (site.spec.dns.zones if site.spec.dns else ()))
        hit = index.__dict__["_dns_zones"] = frozenset(zones)
    return hit


def zone_for(index: Index, name: str) -> str | None:
    """The longest modelled zone that contains ``name`` (lower case, no trailing dot), or None."""
    zones = _zones_of(index)
    n = name
    while n:
        if n in zones:
            return n
        _, _, n = n.partition(".")
    return None


def soa_for(zone: str, kind: str) -> Soa:
    """kind: ``private`` (an Azure private DNS zone answered), ``site`` (an on-premises zone), else public."""
    if kind == "private":
        return private_zone_soa(zone)
    if kind == "site":
        return site_zone_soa(zone)
    return public_zone_soa(zone)
