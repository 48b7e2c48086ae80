"""A private DNS record set as ARM properties: the one mapping arm_codec and the exports share."""

from __future__ import annotations

from typing import Any

from arclink.model import catalogue as cat
from arclink.model import schema


def record_properties(rec: Any) -> dict[str, Any] | None:
    """ARM properties of a private DNS record set (A, AAAA, CNAME, TXT or SOA; None for other types)."""
    props: dict = {"ttl": rec.ttl}
    if rec.type == "A":
        props["aRecords"] = [{"ipv4Address": a} for a in rec.addresses]
    elif rec.type == "AAAA":
        extra = [x.ipv6_address for x in getattr(rec, "aaaa_records", [])]  # a schema record set, or a built ZRecord
        props["aaaaRecords"] = [{"ipv6Address": a} for a in dict.fromkeys([*rec.addresses, *extra])]
    elif rec.type == "CNAME":
        written = getattr(rec, "cname_record", None)
        props["cnameRecord"] = {"cname": written.cname if written else rec.cname}
    elif rec.type == "TXT":
        props["txtRecords"] = [{"value": list(t.value)} for t in getattr(rec, "txt_records", [])]
    elif rec.type == "SOA":
        soa = getattr(rec, "soa_record", None) or schema.SoaRecord()
        props["soaRecord"] = {"host": soa.host, "email": soa.email, "serialNumber": soa.serial_number,
                              "refreshTime": soa.refresh_time, "retryTime": soa.retry_time,
                              "expireTime": soa.expire_time, "minimumTtl": soa.minimum_ttl}
    else:
        return None
    return props


SOA_FIELDS = ("host", "email", "serialNumber", "refreshTime", "retryTime", "expireTime", "minimumTtl")


def implied_soa(record: dict[str, Any]) -> bool:
    """The apex SOA record set as Azure creates it with every private zone (catalogue values): a
    topology that names the zone has it, so reading ARM back leaves it out."""
    defaults = cat.PRIVATE_ZONE_SOA
    return record["name"] == "@" and record["ttl"] == defaults["ttl"] and all(
        v == defaults.get(k) for k, v in record["soaRecord"].items())
