"""What differs between two topologies, by what they mean (``canonical.view``), grouped by resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arclink.importers.canonical import SECTIONS, view
from arclink.model import schema
from arclink.model.resolved import Index

# One resource kind per section, as the report names it.
KIND = {"subscriptions": "subscription", "resourceGroups": "resource group", "networkSecurityGroups": "NSG",
        "virtualNetworks": "virtual network", "privateLinkScopes": "private link scope",
        "privateDnsZones": "private DNS zone", "privateEndpoints": "private endpoint",
        "dnsForwarders": "DNS forwarder", "sites": "site", "clusters": "cluster"}


@dataclass
class Change:
    path: str  # the property, record or link inside the resource: "records/gbl A/addresses"
    a: Any
    b: Any


@dataclass
class ResourceDiff:
    section: str
    name: str
    only_in: str | None = None  # "a" or "b" when the resource exists on one side only
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"section": self.section, "kind": KIND[self.section], "name": self.name}
        if self.only_in:
            out["onlyIn"] = self.only_in
        else:
            out["changes"] = [{"path": c.path, "a": c.a, "b": c.b} for c in self.changes]
        return out


def diff(a: schema.Topology | Index, b: schema.Topology | Index) -> list[ResourceDiff]:
    """Every resource on one side only, and every property that differs, in a stable order."""
    va, vb = view(a), view(b)
    out: list[ResourceDiff] = []
    for section in SECTIONS:
        left, right = va[section], vb[section]
        for name in sorted(set(left) | set(right)):
            if name not in right:
                out.append(ResourceDiff(section, name, only_in="a"))
            elif name not in left:
                out.append(ResourceDiff(section, name, only_in="b"))
            else:
                changes: list[Change] = []
                _compare("", left[name], right[name], changes)
                if changes:
                    out.append(ResourceDiff(section, name, changes=changes))
    return out


def _compare(path: str, a: Any, b: Any, out: list[Change]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            sub = f"{path}/{k}" if path else str(k)
            if k not in a:
                out.append(Change(sub, None, b[k]))
            elif k not in b:
                out.append(Change(sub, a[k], None))
            else:
                _compare(sub, a[k], b[k], out)
    elif a != b:
        out.append(Change(path, a, b))


def render_text(diffs: list[ResourceDiff], name_a: str, name_b: str) -> str:
    if not diffs:
        return f"no differences between {name_a} and {name_b}\n"
    lines = [f"--- {name_a}", f"+++ {name_b}"]
    for d in diffs:
        head = f"{KIND[d.section]} {d.name}"
        if d.only_in == "a":
            lines.append(f"- {head}: only in {name_a}")
        elif d.only_in == "b":
            lines.append(f"+ {head}: only in {name_b}")
        else:
            lines.append(f"~ {head}:")
            for c in d.changes:
                lines.append(f"    {c.path}: {_short(c.a)} -> {_short(c.b)}")
    n = len(diffs)
    lines.append(f"{n} resource{'s differ' if n != 1 else ' differs'}")
    return "\n".join(lines) + "\n"


def _short(v: Any) -> str:
    import json

    return "(absent)" if v is None else json.dumps(v, sort_keys=True)
