"""Windows DNS Server, from the JSON of its own cmdlets (docs/import.md gives the PowerShell line):

    {"Zones": Get-DnsServerZone, "Records": Get-DnsServerResourceRecord of each primary zone (with
     its "ZoneName"), "Forwarders": Get-DnsServerForwarder, "Settings": Get-DnsServerSetting -All}

A bare list (``Get-DnsServerZone | ConvertTo-Json``) is read as the zones alone. ConvertTo-Json
writes IP addresses and TTLs as objects or strings depending on the PowerShell version; both are read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from arclink.importers.dns.common import Found, target, zone_name
from arclink.importers.errors import at, read_text

EXPECTED = ('a JSON object {"Zones": [...], "Records": [...], "Forwarders": {...}} or the list '
            "Get-DnsServerZone | ConvertTo-Json writes")


def _ip(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for k in ("IPAddressToString", "IPv4Address", "Address"):
            v = value.get(k)
            if isinstance(v, str):
                return v
            if isinstance(v, dict):
                return _ip(v)
    return None


def _list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _seconds(value: Any) -> int | None:
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, dict):
        if "TotalSeconds" in value:
            return int(value["TotalSeconds"])
        return int(value.get("Days", 0)) * 86400 + int(value.get("Hours", 0)) * 3600 + \
            int(value.get("Minutes", 0)) * 60 + int(value.get("Seconds", 0))
    if isinstance(value, str):
        days, _, hms = value.rpartition(".") if value.count(":") == 2 and "." in value.split(":")[0] else ("", "", value)
        parts = hms.split(":")
        if len(parts) == 3 and all(x.split(".")[0].isdigit() for x in parts):
            return int(days or 0) * 86400 + int(parts[0]) * 3600 + int(parts[1]) * 60 + int(float(parts[2]))
    return None


def read(path: str) -> Found:
    p = Path(path)
    text = read_text(p, "utf-8-sig")  # Out-File -Encoding utf8 writes a BOM
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise at(str(p), exc.lineno, f"not JSON ({exc.msg}, column {exc.colno}); expected {EXPECTED}.") from None
    if isinstance(doc, list):
        doc = {"Zones": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("Zones"), (list, dict)):
        raise at(str(p), 1, f"expected {EXPECTED}.")
    found = Found()
    for a in _list((doc.get("Settings") or {}).get("ListeningIPAddress")):
        if _ip(a):
            found.listen(_ip(a) or "")
    fw = [t for a in _list((doc.get("Forwarders") or {}).get("IPAddress"))
          if (t := target(_ip(a) or "", p, None, found))]
    if fw:
        found.forward(".", fw)
    records: dict[str, list[dict]] = {}
    for i, r in enumerate(_list(doc.get("Records"))):
        if not isinstance(r, dict) or not isinstance(r.get("ZoneName"), str):
            raise at(str(p), None, f"Records[{i}] has no ZoneName; expected Get-DnsServerResourceRecord objects with "
                                   "a ZoneName property added (see docs/import.md).")
        records.setdefault(zone_name(r["ZoneName"]), []).append(r)
    for i, z in enumerate(_list(doc.get("Zones"))):
        if not isinstance(z, dict) or not isinstance(z.get("ZoneName"), str):
            raise at(str(p), None, f"Zones[{i}] has no ZoneName; expected Get-DnsServerZone objects.")
        _zone(z, records.get(zone_name(z["ZoneName"]), []), found, p)
    return found


def _zone(z: dict, records: list[dict], found: Found, p: Path) -> None:
    name, kind = zone_name(z["ZoneName"]), str(z.get("ZoneType") or "")
    if z.get("IsAutoCreated") or name in ("trustanchors", "."):
        return
    if kind == "Forwarder":
        found.forward(name, [t for a in _list(z.get("MasterServers")) if (t := target(_ip(a) or "", p, None, found))])
    elif kind == "Stub":
        found.forward(name, [t for a in _list(z.get("MasterServers")) if (t := target(_ip(a) or "", p, None, found))])
        found.note(p, None, f"stub zone '{name}' is read as a conditional forwarder to its master servers")
    elif kind == "Primary":
        if z.get("IsReverseLookupZone"):
            found.note(p, None, f"reverse zone '{name}' is not in the site model (left out)")
            return
        entries = []
        for r in records:
            rtype, host = str(r.get("RecordType") or ""), str(r.get("HostName") or "@")
            fqdn = name if host == "@" else f"{host.rstrip('.')}.{name}"
            data = r.get("RecordData") or {}
            ttl = _seconds(r.get("TimeToLive"))
            if rtype == "A":
                entries.append((fqdn, "A", ttl, _ip(data.get("IPv4Address") if isinstance(data, dict) else data)))
            elif rtype == "CNAME":
                entries.append((fqdn, "CNAME", ttl, data.get("HostNameAlias") if isinstance(data, dict) else data))
            elif rtype not in ("SOA", "NS"):
                found.note(p, None, f"zone '{name}': a {rtype} record ({host}) is not in the site model")
        only_apex = bool(entries) and all(n == name and t == "A" for n, t, _, _ in entries)
        if not only_apex:
            found.host_zone(name)
        for n, t, ttl, v in entries:
            if v:
                found.record(n, t, ttl, str(v))
    else:
        found.note(p, None, f"zone '{name}' of type '{kind or 'unknown'}' is not in the site model (left out)")
