"""Which names the doctor looks at, from the catalogue (one source of truth)."""

from __future__ import annotations

from dataclasses import dataclass

from arclink.model import catalogue as cat


# For fix texts: the three zones a site's DNS server must forward, and the tags its firewall must allow.
ARC_ZONE_NAMES = ", ".join(z.public_zone for z in cat.ARC_ZONES)
SERVICE_TAG_NAMES = (", ".join(cat.REQUIRED_SERVICE_TAGS)
                     + f" ({', '.join(cat.INBOUND_SERVICE_TAGS)} inbound and outbound)")


@dataclass(frozen=True)
class Plan:
    arc: tuple[str, ...]  # names that go through the Arc private endpoint
    public: tuple[cat.PublicEndpoint, ...]  # names that must stay public
    ignored: tuple[str, ...]  # reserved -ats.his names
    cluster_connect: tuple[str, ...]  # unused under private link


def build_plan(location: str | None) -> Plan:
    """Without a location only the global names are checked (the seed's three lookups)."""
    if location:
        loc = cat.normalize_location(location)
        arc = tuple(r.fqdn for r in cat.arc_records(loc))
        public = cat.public_endpoints(loc)
        ignored = (cat.ats_name(loc),)
        cc = tuple(n.format(loc=loc) for n in cat.CLUSTER_CONNECT_ENDPOINTS)
    else:
        arc = cat.SEED_CHECK_NAMES
        marker = "regionplaceholder"
        public = tuple(p for p in cat.public_endpoints(marker) if marker not in p.name)
        ignored = ()
        cc = tuple(n for n in cat.CLUSTER_CONNECT_ENDPOINTS if "{" not in n)
    return Plan(tuple(n for n in arc if not cat.is_ats_name(n)), public, ignored, cc)
