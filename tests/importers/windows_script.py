"""What a Windows DNS server holds after the export's PowerShell script ran, as the JSON of
``Get-DnsServerZone`` / ``Get-DnsServerResourceRecord`` (docs/import.md's line) would show it.

The script uses three cmdlets; each line calling one is read with PowerShell's quoting
('single quotes'), and its effect recorded in the shapes ConvertTo-Json writes: IP addresses as
objects with ``IPAddressToString``, TTLs as TimeSpan objects.
"""

from __future__ import annotations

import re
import shlex


def _args(line: str) -> dict[str, list[str]]:
    lex = shlex.shlex(line, posix=True, punctuation_chars=",")
    lex.whitespace_split = True
    out: dict[str, list[str]] = {}
    key = None
    for w in lex:
        if w.startswith("-"):
            key = w[1:]
            out[key] = []
        elif key and w != ",":
            out[key].append(w)
    return out


def _ip(a: str) -> dict:
    return {"Address": 0, "AddressFamily": 2, "IPAddressToString": a}


def run_script(text: str) -> dict:
    zones: dict[str, dict] = {}
    records: list[dict] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("Add-DnsServerConditionalForwarderZone"):
            a = _args(line)
            zones[a["Name"][0]] = {"ZoneName": a["Name"][0], "ZoneType": "Forwarder", "IsAutoCreated": False,
                                   "IsDsIntegrated": False, "IsReverseLookupZone": False,
                                   "MasterServers": [_ip(x) for x in a["MasterServers"]]}
        elif line.startswith("Add-DnsServerPrimaryZone"):
            a = _args(line)
            zones[a["Name"][0]] = {"ZoneName": a["Name"][0], "ZoneType": "Primary", "IsAutoCreated": False,
                                   "IsDsIntegrated": False, "IsReverseLookupZone": False, "ZoneFile": a["ZoneFile"][0]}
            records.append({"ZoneName": a["Name"][0], "HostName": "@", "RecordType": "SOA",
                            "TimeToLive": {"TotalSeconds": 3600}, "RecordData": {}})
        elif line.startswith("Add-DnsServerResourceRecordA"):
            ttl = int(re.search(r"FromSeconds\((\d+)\)", line).group(1))
            a = _args(line.split("-TimeToLive")[0])
            records.append({"ZoneName": a["ZoneName"][0], "HostName": a["Name"][0], "RecordType": "A",
                            "TimeToLive": {"Days": 0, "Hours": ttl // 3600, "Minutes": ttl % 3600 // 60,
                                           "Seconds": ttl % 60, "TotalSeconds": float(ttl)},
                            "RecordData": {"IPv4Address": _ip(a["IPv4Address"][0])}})
    auto = {"ZoneName": "TrustAnchors", "ZoneType": "Primary", "IsAutoCreated": False, "IsDsIntegrated": True,
            "IsReverseLookupZone": False}
    builtin = {"ZoneName": "0.in-addr.arpa", "ZoneType": "Primary", "IsAutoCreated": True, "IsDsIntegrated": False,
               "IsReverseLookupZone": True}
    return {"Zones": [auto, builtin, *zones.values()], "Records": records, "Forwarders": {"IPAddress": []}}
