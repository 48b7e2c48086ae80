"""APL017: no empty placeholder DNS records for the Arc names.

Looks at the records as written (site DNS records and private DNS zone records), before a
private DNS zone group fills anything in, because an empty record written "as preparation"
is the mistake even when something later overwrites it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from arclink.model import catalogue as cat
from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL017",
    name="no-empty-placeholder-records",
    severity="error",
    summary="No DNS record for an Arc name is created empty, as a placeholder for the private link setup.",
    seed="Make sure not to create empty records as preparation for your Private Link setup. The DNS records you create "
         "can override existing settings and impact your connectivity with Arc-enabled Kubernetes clusters.",
    fix="Delete the empty record, or give it the private endpoint's address from the endpoint's DNS configuration "
        "(az network private-endpoint show --query customDnsConfigs).",
)


@dataclass
class _Record:
    """Where a record is, for a finding: an id for the record and its JSON path."""

    id: str
    path: str
    name: str


def _arc_name(name: str) -> bool:
    n = name.rstrip(".").lower()
    return cat.arc_zone_for(n) is not None or any(n == w or n.endswith("." + w) for w in cat.WRONG_ZONE_NAMES)


def _empty(rtype: str, addresses: list[str], cname: str | None) -> bool:
    """A record that should carry an address or a target but carries none (TXT and the zone's SOA
    carry neither, and are no placeholders)."""
    if rtype == "CNAME":
        return not cname
    return rtype in ("A", "AAAA") and not addresses


def check(ix: Index) -> Iterator[Finding]:
    for site in ix.sites.values():
        dns = site.spec.dns
        if dns is None:
            continue
        for k, rec in enumerate(dns.records):
            if _arc_name(rec.name) and _empty(rec.type, rec.addresses, rec.cname):
                at = _Record(f"site:{site.name}/dns/{rec.name}", f"{site.path}.dns.records[{k}]", rec.name)
                yield finding(RULE, at, f"DNS server {dns.address} of site '{site.name}' has an empty {rec.type} record "
                                        f"'{rec.name}': it answers with no address and hides the real answer from the "
                                        "site's clusters.", related=[site])
    for zone in ix.zones.values():
        zname = zone.zone_name
        for k, zrec in enumerate(zone.spec.records):
            full = zname if zrec.name == "@" else f"{zrec.name}.{zname}"
            if _arc_name(full) and _empty(zrec.type, zrec.addresses, zrec.cname):
                at = _Record(f"{zone.id}/{zrec.type}/{zrec.name}", f"{zone.path}.records[{k}]", zrec.name)
                yield finding(RULE, at, f"private DNS zone {shown(zone)} has an empty {zrec.type} record "
                                        f"'{zrec.name}' ({full}): virtual networks linked to the zone get no address for it.",
                              related=[zone])
