"""Private DNS zones, their virtual network links and record sets.

A zone's counts (record sets, links, links with registration) follow every write of
its children, as ARM shows them on the zone.
"""

from __future__ import annotations

import ipaddress
import uuid

from arclink.arm import types
from arclink.arm.errors import ArmError, bad_request
from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.resources.common import arm_id_or_fail, ref_missing, type_of
from arclink.arm.routes import Route
from arclink.model import arm_codec as codec
from arclink.model.rules import Rule

ENFORCES: tuple[Rule, ...] = ()
# the SOA record Azure gives every private DNS zone
SOA_DEFAULTS = {"host": "azureprivatedns.net", "email": "azureprivatedns-host.microsoft.com", "serialNumber": 1,
                "refreshTime": 3600, "retryTime": 300, "expireTime": 2419200, "minimumTtl": 10}


def _zone_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    if new["name"].count(".") < 1:
        raise bad_request("InvalidResourceName", f"The zone name '{new['name']}' needs at least two labels "
                                                 "(for example privatelink.his.arc.azure.com).", "name")
    prev = (old or {}).get("properties") or {}
    new["properties"] = {"maxNumberOfRecordSets": 25000, "numberOfRecordSets": prev.get("numberOfRecordSets", 1),
                         "maxNumberOfVirtualNetworkLinks": 1000,
                         "numberOfVirtualNetworkLinks": prev.get("numberOfVirtualNetworkLinks", 0),
                         "maxNumberOfVirtualNetworkLinksWithRegistration": 100,
                         "numberOfVirtualNetworkLinksWithRegistration": prev.get(
                             "numberOfVirtualNetworkLinksWithRegistration", 0),
                         "internalId": prev.get("internalId") or str(uuid.uuid4())}


def zone_counts(store: ResourceStore, zone_id: str) -> None:
    """Bring the zone's numberOf... properties up to date with its stored children."""
    zone = store.get_obj(zone_id)
    if zone is None:
        return
    zk = zone_id.lower()
    links = [store.get_obj(k) for k in store.list_keys(zk + "/virtualnetworklinks")]
    n_records = sum(len(store.list_keys(f"{zk}/{t}")) for t in ("a", "aaaa", "cname", "mx", "ptr", "soa", "srv", "txt"))
    p = zone.setdefault("properties", {})
    counts = {"numberOfRecordSets": n_records, "numberOfVirtualNetworkLinks": len(links),
              "numberOfVirtualNetworkLinksWithRegistration": sum(
                  1 for link in links if link and (link.get("properties") or {}).get("registrationEnabled"))}
    if any(p.get(k) != v for k, v in counts.items()):
        p.update(counts)
        store.put(zone_id, zone)


def _zone_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    """Azure creates the zone's ``@`` SOA record set with the zone (its default values)."""
    soa_id = f"{new['id']}/SOA/@"
    if store.get(soa_id) is None:
        store.put(soa_id, {"id": soa_id, "name": "@", "type": "Microsoft.Network/privateDnsZones/SOA",
                           "etag": str(uuid.uuid4()),
                           "properties": {"metadata": {}, "ttl": 3600, "fqdn": new["name"] + ".",
                                          "soaRecord": dict(SOA_DEFAULTS), "isAutoRegistered": False}})
        zone_counts(store, new["id"])


def _record_before_delete(store: ResourceStore, route: Route, old: Body) -> None:
    if (old.get("type") or "").lower() != codec.T_ZONE + "/soa":
        return
    raise bad_request("BadRequest", "The SOA record set of a private DNS zone cannot be deleted; it goes with the zone.")


def _zone_before_delete(store: ResourceStore, route: Route, old: Body) -> None:
    if store.list_keys(route.key + "/virtualnetworklinks"):
        raise ArmError(409, "Conflict", f"The private DNS zone '{old['name']}' cannot be deleted while it has virtual "
                                        "network links; delete the links first.")


def _child_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    zone_counts(store, codec.parent_id(new["id"]))


def _child_after_delete(store: ResourceStore, route: Route, old: Body) -> None:
    zone_counts(store, codec.parent_id(old["id"]))


def _link_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    p = new["properties"]
    vid = p["virtualNetwork"]["id"]
    arm_id_or_fail(vid, "properties.virtualNetwork.id")
    vnet = store.get_obj(vid)
    if vnet is None or type_of(vnet) != codec.T_VNET:
        raise ref_missing(vid, new["id"])
    p["virtualNetwork"] = {"id": vnet["id"]}
    for k in store.list_keys(codec.parent_id(new["id"]).lower() + "/virtualnetworklinks"):
        if k == route.key:
            continue
        other = store.get_obj(k) or {}
        if ((other.get("properties") or {}).get("virtualNetwork") or {}).get("id", "").lower() == vnet["id"].lower():
            raise ArmError(409, "Conflict", f"A virtual network cannot be linked to the same private DNS zone twice: "
                                            f"'{vnet['name']}' is already linked by '{other.get('name')}'.")
    p["virtualNetworkLinkState"] = "Completed"


def _record_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    zone = store.get_obj(codec.parent_id(new["id"])) or {}
    p = new["properties"]
    _check_record_fields(p)
    _check_cname_alone(store, codec.parent_id(new["id"]).lower(), new["type"].rsplit("/", 1)[-1].lower(), new["name"])
    if isinstance(p.get("cnameRecord"), dict) and isinstance(p["cnameRecord"].get("cname"), str):
        fqdn = zone["name"] if new["name"] == "@" else f"{new['name']}.{zone['name']}"
        if p["cnameRecord"]["cname"].rstrip(".").lower() == fqdn.lower():
            # a resolver following it loops until it gives up: SERVFAIL for the name and all that CNAME to it
            raise bad_request("BadRequest", f"The CNAME record '{fqdn}' points to itself; give it another target.",
                              "properties.cnameRecord.cname")
    p.setdefault("ttl", 3600)
    p["fqdn"] = (zone["name"] if new["name"] == "@" else f"{new['name']}.{zone['name']}") + "."
    p["isAutoRegistered"] = False
    p.setdefault("metadata", {})
    checks = (("aRecords", "ipv4Address", ipaddress.IPv4Address, "IPv4"),
              ("aaaaRecords", "ipv6Address", ipaddress.IPv6Address, "IPv6"))
    for key, field, parse, kind in checks:
        for i, a in enumerate(p.get(key) or []):
            try:
                parse((a or {}).get(field))
            except (ValueError, AttributeError):
                raise bad_request("InvalidRequestContent", f"{key}[{i}].{field} is not an {kind} address.",
                                  f"properties.{key}[{i}].{field}") from None


_U16 = (0, 65535)
_U32 = (0, 4294967295)
# the fields of each record kind: (JSON kind, inclusive range for integers) -- RFC 1035/2782 widths;
# Azure's spec only says int32/int64, its service refuses what DNS cannot carry
_RECORD_FIELDS: dict[str, dict[str, tuple[type, tuple[int, int] | None]]] = {
    "mxRecords": {"preference": (int, _U16), "exchange": (str, None)},
    "srvRecords": {"priority": (int, _U16), "weight": (int, _U16), "port": (int, _U16), "target": (str, None)},
    "ptrRecords": {"ptrdname": (str, None)},
    "txtRecords": {"value": (list, None)},
}
_SOA_FIELDS: dict[str, tuple[type, tuple[int, int] | None]] = {
    "host": (str, None), "email": (str, None), "serialNumber": (int, _U32), "refreshTime": (int, _U32),
    "retryTime": (int, _U32), "expireTime": (int, _U32), "minimumTtl": (int, _U32)}
_TTL_RANGE = (0, 2147483647)  # RFC 2181: a TTL is 31 bits
_TXT_STRING_BYTES = 255  # one character-string of a TXT record


def _check_field(value: object, kind: type, bounds: tuple[int, int] | None, path: str) -> None:
    if value is None:
        return
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise bad_request("InvalidRequestContent", f"The request content was invalid and could not be deserialized: "
                                                   f"'{path}' must be {_KIND_WORDS[kind]}.", path)
    if bounds is not None and isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
        raise bad_request("BadRequest", f"The value {value} of '{path}' is out of range; it must be between "
                                        f"{bounds[0]} and {bounds[1]}.", path)


_KIND_WORDS = {int: "an integer", str: "a string", list: "an array", dict: "an object"}


def _check_record_fields(p: Body) -> None:
    """Types and ranges of a record set's records (what a DNS message can carry)."""
    _check_field(p.get("ttl"), int, _TTL_RANGE, "properties.ttl")
    for key, fields in _RECORD_FIELDS.items():
        records = p.get(key)
        if records is None:
            continue
        for i, rec in enumerate(records):
            at = f"properties.{key}[{i}]"
            _check_field(rec if rec is not None else [], dict, None, at)  # null is no record either
            for name, (kind, bounds) in fields.items():
                _check_field(rec.get(name), kind, bounds, f"{at}.{name}")
            if key == "txtRecords":
                for j, text in enumerate(rec.get("value") or []):
                    _check_field(text if text is not None else 0, str, None, f"{at}.value[{j}]")
                    if len(text.encode("utf-8")) > _TXT_STRING_BYTES:
                        raise bad_request("BadRequest", f"'{at}.value[{j}]' is {len(text.encode('utf-8'))} bytes; each "
                                                        f"string of a TXT record holds at most {_TXT_STRING_BYTES} bytes: "
                                                        "split it into several strings.", f"{at}.value[{j}]")
    cname = p.get("cnameRecord")
    if cname is not None:
        _check_field(cname.get("cname"), str, None, "properties.cnameRecord.cname")
    soa = p.get("soaRecord")
    if soa is not None:
        for name, (kind, bounds) in _SOA_FIELDS.items():
            _check_field(soa.get(name), kind, bounds, f"properties.soaRecord.{name}")


_CNAME_CONFLICT = "The CNAME record could not be created because another record with the same name already exists in this zone."


def _check_cname_alone(store: ResourceStore, zone_key: str, kind: str, name: str) -> None:
    """A CNAME is the only record set at its name (RFC 1034 3.6.2); the apex always has the SOA."""
    if kind == "cname":
        if name == "@" or any(store.get(f"{zone_key}/{t}/{name}") is not None for t in _RECORD_KINDS if t != "cname"):
            raise ArmError(409, "Conflict", _CNAME_CONFLICT)
    elif store.get(f"{zone_key}/cname/{name}") is not None:
        raise ArmError(409, "Conflict", f"The {kind.upper()} record set could not be created because a CNAME record "
                                        "with the same name already exists in this zone.")


# record sets of the types the network model reads are checked against it; the others are only stored
_MODEL_RECORDS = {f"{codec.T_ZONE}/{t}" for t in codec.RECORD_TYPES}
_RECORD_KEYS = [t.key for t in types.T.values() if t.parent == codec.T_ZONE and t.key != codec.T_LINK]
_RECORD_KINDS = [k.rsplit("/", 1)[-1] for k in _RECORD_KEYS]

HOOKS = {
    codec.T_ZONE: Hooks(prepare=_zone_prepare, after_put=_zone_after_put, before_delete=_zone_before_delete,
                        check_model=True),
    codec.T_LINK: Hooks(prepare=_link_prepare, after_put=_child_after_put, after_delete=_child_after_delete,
                        check_model=True),
    **{key: Hooks(prepare=_record_prepare, after_put=_child_after_put, after_delete=_child_after_delete,
                  check_model=key in _MODEL_RECORDS, provisioning_state=False,
                  before_delete=_record_before_delete) for key in _RECORD_KEYS},
}
