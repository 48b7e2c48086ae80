"""On-premises firewall allow lists from the Service Tags JSON file (the monthly download).

The file's format is public: ``{"values": [{"name": "AzureActiveDirectory", "properties":
{"addressPrefixes": [...]}}, ...]}``. We take the four tags the seed names, collapse each
tag's prefixes (``ipaddress.collapse_addresses``) and write TCP 443 allow rules: outbound
to all four, inbound from ``AzureFrontDoor.FirstParty`` too ("Both inbound and outbound").
Regional variants (``AzureResourceManager.WestEurope``) are not used: the whole tag is.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path

from arclink.model import catalogue as cat

PORT = 443
MAIN_FILE = "arclink.nft"


class ServiceTagsError(Exception):
    """The service tags file cannot be used; ``str()`` says why and what to do."""


@dataclass
class TagPrefixes:
    tag: str
    v4: list  # collapsed IPv4Network
    v6: list  # collapsed IPv6Network

    @property
    def set_name(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.tag.lower())


def load_service_tags(path: str | Path) -> list[TagPrefixes]:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ServiceTagsError(f"{p}: file not found; download the Service Tags JSON (Azure IP Ranges and Service "
                               "Tags – Public Cloud) and give its path.") from None
    except IsADirectoryError:
        raise ServiceTagsError(f"{p} is a directory; give the path of the Service Tags JSON file.") from None
    except UnicodeDecodeError:
        raise ServiceTagsError(f"{p}: not UTF-8 text; give the Service Tags JSON file as downloaded.") from None
    except OSError as exc:
        raise ServiceTagsError(f"{p}: cannot read it ({exc.strerror}); check its permissions.") from None
    except json.JSONDecodeError as exc:
        raise ServiceTagsError(f"{p}:{exc.lineno}: not valid JSON ({exc.msg}); give the Service Tags JSON file.") from None
    values = doc.get("values") if isinstance(doc, dict) else None
    if not isinstance(values, list):
        raise ServiceTagsError(f"{p}: no 'values' list; this is not a Service Tags file "
                               "(expected {\"values\": [{\"name\": ..., \"properties\": {\"addressPrefixes\": [...]}}]}).")
    by_name = {}
    for i, v in enumerate(values):
        if isinstance(v, dict) and isinstance(v.get("name"), str):
            by_name[v["name"].lower()] = (i, v)
    out = []
    for tag in cat.REQUIRED_SERVICE_TAGS:
        hit = by_name.get(tag.lower())
        if hit is None:
            raise ServiceTagsError(f"{p}: service tag '{tag}' is missing; the seed needs all of "
                                   f"{', '.join(cat.REQUIRED_SERVICE_TAGS)} (use the complete, current download).")
        i, v = hit
        prefixes = (v.get("properties") or {}).get("addressPrefixes")
        if not isinstance(prefixes, list) or not prefixes:
            raise ServiceTagsError(f"{p}: values[{i}] ('{tag}') has no properties.addressPrefixes.")
        nets = []
        for pre in prefixes:
            try:
                nets.append(ipaddress.ip_network(str(pre), strict=False))
            except ValueError:
                raise ServiceTagsError(f"{p}: values[{i}] ('{tag}') has '{pre}', which is not an address prefix.") from None
        out.append(TagPrefixes(tag, list(ipaddress.collapse_addresses(n for n in nets if n.version == 4)),
                               list(ipaddress.collapse_addresses(n for n in nets if n.version == 6))))
    return out


def _directions(tag: str) -> list[str]:
    return ["outbound", "inbound"] if tag in cat.INBOUND_SERVICE_TAGS else ["outbound"]


def nftables(tags: list[TagPrefixes]) -> str:
    lines = ["#!/usr/sbin/nft -f",
             "# Azure Arc private link: TCP 443 to Microsoft Entra ID, Azure Resource Manager, Microsoft Container",
             "# Registry and AzureFrontDoor.FirstParty (both directions), from the Service Tags file.",
             "# 'nft -f' this file, then jump to chain arc_allow from your own filter chains before any drop.",
             "table inet arclink {"]
    for t in tags:
        for fam, nets in (("ipv4", t.v4), ("ipv6", t.v6)):
            if not nets:
                continue
            lines += [f"    set {t.set_name}_{fam[-2:]} {{", f"        type {fam}_addr", "        flags interval",
                      "        elements = { " + ", ".join(str(n) for n in nets) + " }", "    }"]
    lines.append("    chain arc_allow {")
    for t in tags:
        for fam, nets in (("ip", t.v4), ("ip6", t.v6)):
            if not nets:
                continue
            s = f"@{t.set_name}_{'v4' if fam == 'ip' else 'v6'}"
            for d in _directions(t.tag):
                field = "daddr" if d == "outbound" else "saddr"
                lines.append(f'        {fam} {field} {s} tcp dport {PORT} accept comment "{t.tag} {d}"')
    lines += ["    }",
              "    chain forward {",
              "        type filter hook forward priority filter; policy accept;",
              "        jump arc_allow",
              "    }",
              "    chain input {",
              "        type filter hook input priority filter; policy accept;",
              "        jump arc_allow",
              "    }",
              "    chain output {",
              "        type filter hook output priority filter; policy accept;",
              "        jump arc_allow",
              "    }",
              "}"]
    return "\n".join(lines) + "\n"


def iptables(tags: list[TagPrefixes], version: int) -> str:
    lines = [f"# Azure Arc private link allow list ({'iptables' if version == 4 else 'ip6tables'}-restore format).",
             "# Load with --noflush to add the ARC-ALLOW chain; jump to it from FORWARD/OUTPUT before any DROP.",
             "*filter", ":ARC-ALLOW - [0:0]"]
    for t in tags:
        for n in (t.v4 if version == 4 else t.v6):
            for d in _directions(t.tag):
                side = "-d" if d == "outbound" else "-s"
                lines.append(f'-A ARC-ALLOW {side} {n} -p tcp -m tcp --dport {PORT} -m comment --comment "{t.tag} {d}" '
                             "-j ACCEPT")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def csv_rows(tags: list[TagPrefixes]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["direction", "service_tag", "prefix", "protocol", "port"])
    for t in tags:
        for d in _directions(t.tag):
            for n in t.v4 + t.v6:
                w.writerow([d, t.tag, str(n), "tcp", PORT])
    return buf.getvalue()


def render(tags: list[TagPrefixes]) -> dict[str, str]:
    return {MAIN_FILE: nftables(tags), "iptables.rules": iptables(tags, 4), "ip6tables.rules": iptables(tags, 6),
            "allow-list.csv": csv_rows(tags)}
