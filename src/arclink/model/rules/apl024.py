"""APL024: the three Arc private DNS zones exist with their exact names and are linked where resolution happens.

Resolution happens in the virtual network of the DNS forwarder a site's queries reach (DNS
private resolver inbound endpoint, forwarder VM, Azure Firewall DNS proxy). Sites whose own
DNS server answers an Arc zone (manual DNS) are exempt from the link part for that zone.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model import catalogue as cat
from arclink.model.index import Index, PeR, SiteR, VNetR, ZoneR
from arclink.model.rules import Finding, Rule, finding
from arclink.model.rules._private_path import manual_zone, pl_groups, seed_name_in
from arclink.model.rules._text import quoted
from arclink.model.trace import site_resolution
from arclink.model.resolved import shown

RULE = Rule(
    id="APL024",
    name="private-dns-zones",
    severity="error",
    summary="privatelink.his.arc.azure.com, privatelink.guestconfiguration.azure.com and "
            "privatelink.dp.kubernetesconfiguration.azure.com exist and are linked to the virtual network where the "
            "sites' queries are resolved.",
    seed="For **Integrate with private DNS zone**, select **Yes**. A new Private DNS Zone is created.",
    fix="Create the three private DNS zones with exactly these names (privatelink.his.arc.azure.com, "
        "privatelink.guestconfiguration.azure.com, privatelink.dp.kubernetesconfiguration.azure.com) and link each to "
        "the virtual network of the DNS forwarder the sites use (az network private-dns link vnet create).",
    policy="Configure Azure Arc Private Link Scopes to use private DNS zones",
)


def _zone_users(ix: Index) -> dict[str, list[PeR]]:
    """Endpoints per Arc zone name they integrate with (zone group), for messages."""
    users: dict[str, list[PeR]] = {}
    for pe in ix.endpoints.values():
        for z in pe.zones:
            users.setdefault(z.zone_name, []).append(pe)
    return users


def check(ix: Index) -> Iterator[Finding]:
    users = _zone_users(ix)
    # 1. zones named the way people get wrong
    for zone in ix.zones.values():
        right = cat.WRONG_ZONE_NAMES.get(zone.zone_name)
        if right:
            used = (f"; private endpoint {quoted(users[zone.zone_name])} writes its records there"
                    if zone.zone_name in users else "")
            yield finding(RULE, zone, f"private DNS zone {shown(zone)} has the wrong name: Arc-enabled Kubernetes "
                                      f"resolves dp.kubernetesconfiguration.azure.com through '{right}', so nothing reads "
                                      f"this zone{used}.")
    # 2. zone-integrated Arc endpoints need all three zones
    missing = [z.private_zone for z in cat.ARC_ZONES if ix.zone(z.private_zone) is None]
    wrong = [w for w, right in cat.WRONG_ZONE_NAMES.items() if right in missing and ix.zone(w) is not None]
    hint = f" ('{wrong[0]}' exists instead, a wrong name)" if wrong else ""
    for pe in ix.endpoints.values():
        if missing and pe.is_arc and pe.spec.private_dns_zone_group is not None:
            yield finding(RULE, pe, f"private endpoint {shown(pe)} integrates with private DNS zones but "
                                    f"{'zone' if len(missing) == 1 else 'zones'} {quoted(missing)} "
                                    f"{'does' if len(missing) == 1 else 'do'} not exist{hint}.")
    # 3. links where the sites' queries are resolved
    unlinked: dict[tuple[ZoneR, VNetR], tuple[str, list[SiteR]]] = {}  # (zone, vnet) -> (forwarder name, [sites])
    for (site, scope), _clusters in pl_groups(ix).items():
        if site is None:
            continue
        for arc_zone in cat.ARC_ZONES:
            same = ix.zones.named(arc_zone.private_zone)  # one per resource group that has the zone
            if not same or manual_zone(site, arc_zone):
                continue
            res = site_resolution(ix, site, seed_name_in(arc_zone))
            fwd = ix.forwarders.get((res.forwarder or "").lower())
            if fwd is None:
                continue  # the site never reaches Azure DNS: APL016 says why
            if not any(v is fwd.vnet for z in same for v, _ in z.links):
                linked = next((z for z in same if z.near == fwd.vnet.near), same[0])
                entry = unlinked.setdefault((linked, fwd.vnet), (fwd.name, []))
                if site not in entry[1]:
                    entry[1].append(site)
    for (zone, vnet), (fwd_name, sites) in unlinked.items():
        whom = f"{'site' if len(sites) == 1 else 'sites'} {quoted(sites)}"
        yield finding(RULE, zone, f"private DNS zone {shown(zone)} is not linked to virtual network {shown(vnet)}, "
                                  f"where DNS forwarder '{fwd_name}' resolves for {whom}, so the Arc names "
                                  "resolve to public addresses there.", related=[vnet, *sites])
    # 4. zones that exist but are linked nowhere
    for zone in ix.zones.values():
        if zone.zone_name in cat.ARC_PRIVATE_ZONES and not zone.links \
                and not any(z is zone for (z, _v) in unlinked):
            yield finding(RULE, zone, f"private DNS zone {shown(zone)} is linked to no virtual network, so no query "
                                      "ever reads it.")
