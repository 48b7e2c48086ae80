"""APL025: every record of the private endpoint's DNS configuration is present where the sites look.

A record is looked for in the private DNS zone when the endpoint integrates with private DNS
zones or when a site's queries for that zone reach Azure DNS through a forwarder; and in the
site's own DNS server when the site answers that Arc zone itself (manual DNS).
"""

from __future__ import annotations

from typing import Iterator

from arclink.model import catalogue as cat
from arclink.model.index import Index, PeR, ScopeR, SiteR
from arclink.model.rules import Finding, Rule, finding
from arclink.model.rules._private_path import endpoint_for_site, expected_addresses, manual_zone, pl_groups, \
    seed_name_in
from arclink.model.rules._text import plural
from arclink.model.trace import site_resolution
from arclink.model.resolved import shown

RULE = Rule(
    id="APL025",
    name="endpoint-records-present",
    severity="error",
    summary="Every FQDN of the private endpoint's DNS configuration has an A record with the endpoint's address in the "
            "private DNS zone or in the manual DNS of the sites that host the zone.",
    seed="From the service menu, under **Settings**, select **DNS configuration** to see a list of the DNS records and "
         "corresponding IP addresses that you need to set up on your DNS server.",
    fix="Add every record of the endpoint's DNS configuration (az network private-endpoint show --query customDnsConfigs): "
        "put the endpoint in a private DNS zone group with the three zones, or write the A records (name and private "
        "address) in the private DNS zone or on the site's DNS server.",
    policy="Configure Azure Arc Private Link Scopes to use private DNS zones",
)


def _zone_gaps(ix: Index, pe: PeR, zones: set[str]) -> list[str]:
    """Records of ``pe`` missing from (or wrong in) the existing private zones of ``zones``."""
    gaps = []
    for pr in pe.records:
        zone_name = pr.record.zone.private_zone
        if zone_name not in zones:
            continue
        # where several resource groups have a zone of this name: the endpoint's own (its zone group's,
        # else the one linked to its VNet)
        zone = (next((z for z in pe.zones if z.zone_name == zone_name), None)
                or next((z for z, _ in pe.vnet.zone_links if z.zone_name == zone_name), None) or ix.zone(zone_name))
        if zone is None:
            continue  # APL024 reports the missing zone
        rec = zone.records.get((pr.record.label, "A"))
        if rec is None or not rec.addresses:
            gaps.append(f"{pr.record.fqdn} (A {pr.address} as '{pr.record.label}' in {zone_name})")
        elif pr.address not in rec.addresses:
            gaps.append(f"{pr.record.fqdn} ('{pr.record.label}' in {zone_name} has {', '.join(rec.addresses)}, "
                        f"not {pr.address})")
    return gaps


def check(ix: Index) -> Iterator[Finding]:
    zone_checks: dict[PeR, set[str]] = {}  # endpoint -> private zone names its records must be in
    for pe in ix.endpoints.values():
        if pe.is_arc and pe.spec.private_dns_zone_group is not None:
            zone_checks[pe] = set(cat.ARC_PRIVATE_ZONES)
    manual: list[tuple[SiteR, ScopeR, PeR, cat.ArcZone]] = []
    for (site, scope), _clusters in pl_groups(ix).items():
        used = endpoint_for_site(site, scope)
        if site is None or used is None:
            continue
        for arc_zone in cat.ARC_ZONES:
            if manual_zone(site, arc_zone):
                manual.append((site, scope, used, arc_zone))
            elif site_resolution(ix, site, seed_name_in(arc_zone)).forwarder:
                zone_checks.setdefault(used, set()).add(arc_zone.private_zone)
    for pe, zones in zone_checks.items():
        gaps = _zone_gaps(ix, pe, zones)
        if gaps:
            yield finding(RULE, pe, f"private endpoint {shown(pe)} misses {plural(len(gaps), 'record')} of its DNS "
                                    f"configuration in the private DNS zones: {'; '.join(gaps)}.",
                          related=[pe.scope])
    per_site: dict = {}
    for site, scope, pe, arc_zone in manual:
        for pr in pe.records:
            if pr.record.zone is not arc_zone:
                continue
            res = site_resolution(ix, site, pr.record.fqdn)
            addrs = res.addresses
            if not addrs or not set(addrs) <= expected_addresses(scope, pr.record.fqdn):
                got = f"answers {', '.join(addrs)}" if addrs else f"answers {res.rcode}"
                per_site.setdefault((site, pe), []).append(f"{pr.record.fqdn} (A {pr.address}; {got})")
    for (site, pe), gaps in per_site.items():
        yield finding(RULE, site, f"DNS server {site.spec.dns.address} of site '{site.name}' hosts the Arc zones itself but "
                                  f"misses {plural(len(gaps), 'record')} of private endpoint {shown(pe)}: {'; '.join(gaps)}.",
                      related=[pe])
