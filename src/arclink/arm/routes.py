"""ARM URL -> what it names: a resource (or collection) by type key, a resource group, a provider...

One parser for every path, so ids are compared the same way everywhere: lower-case
for keys, the caller's casing kept for display on first creation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass
class Route:
    kind: str  # resource | collection | rg | rgs | subscription | providers | provider | provider_action |
    #            sub_list | location_op | tenants | locations | generic_list | unknown
    sub: str = ""
    rg: str | None = None
    type_key: str = ""  # lower-case ns/type[/child...]
    names: list = field(default_factory=list)  # names along the current provider segment
    parent_id: str | None = None  # for extension resources: the resource they hang under
    id: str = ""  # the id as written in the URL (no trailing slash)
    action: str | None = None
    ns: str = ""
    extra: list = field(default_factory=list)  # location-scoped tail

    @property
    def key(self) -> str:
        return self.id.lower()


def parse(path: str) -> Route:
    segs = [unquote(s) for s in path.split("/") if s]
    low = [s.lower() for s in segs]
    if len(segs) == 1 and low[0] == "subscriptions":
        return Route("subscriptions", id="/subscriptions")
    if len(segs) == 1 and low[0] == "tenants":
        return Route("tenants", id="/tenants")
    if len(segs) == 3 and low[0] == "providers" and low[2] == "operations":
        return Route("operations", ns=segs[1], id=path)
    if len(segs) < 2 or low[0] != "subscriptions":
        return Route("unknown", id=path)
    sub = segs[1]
    base = f"/subscriptions/{sub}"
    if len(segs) == 2:
        return Route("subscription", sub=sub, id=base)
    if low[2] == "resourcegroups":
        if len(segs) == 3:
            return Route("rgs", sub=sub, id=base + "/resourcegroups")
        rg = segs[3]
        rg_id = f"{base}/resourceGroups/{rg}"
        if len(segs) == 4:
            return Route("rg", sub=sub, rg=rg, id=rg_id, type_key="microsoft.resources/resourcegroups")
        if low[4] == "providers" and len(segs) >= 6:
            return _resource(segs, 5, sub, rg, rg_id + "/providers")
        if low[4] == "resources" and len(segs) == 5:
            return Route("generic_list", sub=sub, rg=rg, id=rg_id.lower())
        return Route("unknown", sub=sub, rg=rg, id=path)
    if low[2] == "providers":
        if len(segs) == 3:
            return Route("providers", sub=sub, id=base + "/providers")
        ns = segs[3]
        if len(segs) == 4:
            return Route("provider", sub=sub, ns=ns, id=f"{base}/providers/{ns}")
        if len(segs) == 5 and low[4] in ("register", "unregister"):
            return Route("provider_action", sub=sub, ns=ns, action=low[4], id=f"{base}/providers/{ns}")
        if low[4] == "locations" and len(segs) >= 7:
            return Route("location_op", sub=sub, ns=ns, extra=segs[5:], id=path)
        if len(segs) == 5:
            return Route("sub_list", sub=sub, ns=ns, type_key=f"{low[3]}/{low[4]}",
                         id=f"{base}/providers/{ns}/{segs[4]}")
    if low[2] == "locations" and len(segs) == 3:
        return Route("locations", sub=sub, id=base + "/locations")
    if low[2] == "resources" and len(segs) == 3:
        return Route("generic_list", sub=sub, id=base.lower())
    return Route("unknown", sub=sub, id=path)


def _resource(segs: list, i: int, sub: str, rg: str, prefix: str) -> Route:
    """Parse ``ns/type/name[/type/name...][/providers/ns/type/name...]`` from index i."""
    ns = segs[i]
    type_parts = [ns.lower()]
    names: list = []
    parent = None
    id_parts = [prefix, ns]
    j = i + 1
    collection = False
    while j < len(segs):
        if segs[j].lower() == "providers" and j + 1 < len(segs) and names and len(names) == len(type_parts) - 1:
            parent = "/".join(id_parts)
            type_parts = [segs[j + 1].lower()]
            names = []
            id_parts += ["providers", segs[j + 1]]
            j += 2
            continue
        type_parts.append(segs[j].lower())
        id_parts.append(segs[j])
        if j + 1 < len(segs):
            names.append(segs[j + 1])
            id_parts.append(segs[j + 1])
            j += 2
        else:
            collection = True
            j += 1
    if len(type_parts) < 2:
        return Route("unknown", sub=sub, rg=rg, id="/".join(id_parts))
    return Route("collection" if collection else "resource", sub=sub, rg=rg, type_key="/".join(type_parts),
                 names=names, parent_id=parent, id="/".join(id_parts), ns=ns)
