"""References in a topology document made from ARM resources, checked before the index is built.

ARM keeps references to deleted resources; ``build_index`` refuses them. ``drop_dangling`` leaves out
what the index would refuse, resolving references as the index does (an ARM id; a name in the
referring resource's resource group; a name unique in the document), so the live model always builds.
"""

from __future__ import annotations

import ipaddress
from typing import Callable, Iterable, Mapping

from arclink.model import catalogue as cat
from arclink.model.resolved import DEFAULT_SUBSCRIPTION, IPNetwork, parse_arm_id


class _Known:
    """The resources of one type in a document, by lower-case ARM id and by name, to check references
    the way ``build_index`` resolves them (an id; a name in the referring resource group; a unique name)."""

    def __init__(self, items: list[dict], rtype: str, default_sub: str):
        self.ids: dict[str, dict] = {}
        self.names: dict[str, list[tuple[str, str, dict]]] = {}
        for item in items:
            sub, rg = (item.get("subscription") or default_sub), (item.get("resourceGroup") or "")
            name = item.get("name") or ""
            self.ids[f"/subscriptions/{sub}/resourcegroups/{rg}/providers/{rtype}/{name}".lower()] = item
            self.names.setdefault(name.lower(), []).append((sub.lower(), rg.lower(), item))

    def find(self, ref: str | None, near: tuple[str, str] | None = None) -> dict | None:
        """The item a reference means, or None: dangling, or a name that several resource groups have."""
        if not ref:
            return None
        if ref.startswith("/"):
            return self.ids.get(ref.rstrip("/").lower())
        hits = self.names.get(ref.lower(), [])
        if len(hits) > 1 and near is not None:
            hits = [h for h in hits if (h[0], h[1]) == near] or hits
        return hits[0][2] if len(hits) == 1 else None

    def shared(self, name: str) -> bool:
        return len(self.names.get(name.lower(), [])) > 1


def drop_dangling(doc: dict) -> None:
    """ARM tolerates references to deleted resources; the index does not. Drop them (and later
    duplicates of an id or, for sites and forwarders, of a name) so the model always builds."""
    default_sub = (doc.get("defaults") or {}).get("subscription") or DEFAULT_SUBSCRIPTION

    def key_of(item: dict, by_name: bool) -> str:
        name = (item.get("name") or "").lower()
        if by_name:
            return name
        return f"{item.get('subscription') or default_sub}/{item.get('resourceGroup') or ''}/{name}".lower()

    for key in ("networkSecurityGroups", "virtualNetworks", "privateLinkScopes", "privateDnsZones", "privateEndpoints",
                "clusters", "sites", "dnsForwarders"):
        seen: set[str] = set()
        out = []
        for item in doc.get(key) or []:
            k = key_of(item, key in ("sites", "dnsForwarders"))
            if k not in seen:
                seen.add(k)
                out.append(item)
        doc[key] = out

    def near(item: dict) -> tuple[str, str]:
        return (item.get("subscription") or default_sub).lower(), (item.get("resourceGroup") or "").lower()

    nsgs = _Known(doc["networkSecurityGroups"], "microsoft.network/networksecuritygroups", default_sub)
    vnets = _Known(doc["virtualNetworks"], "microsoft.network/virtualnetworks", default_sub)
    scopes = _Known(doc["privateLinkScopes"], "microsoft.hybridcompute/privatelinkscopes", default_sub)
    zones = _Known(doc["privateDnsZones"], "microsoft.network/privatednszones", default_sub)

    def nets(v: dict | None) -> list:
        try:
            return [ipaddress.ip_network(a) for a in (v or {}).get("addressSpace") or []]
        except ValueError:
            return []

    for v in doc["virtualNetworks"]:
        for sn in v.get("subnets") or []:
            if sn.get("networkSecurityGroup") and nsgs.find(sn["networkSecurityGroup"], near(v)) is None:
                sn.pop("networkSecurityGroup")
        v["peerings"] = [x for x in v.get("peerings") or []  # a name or an id, or {virtualNetwork, flags...}
                         if vnets.find(x if isinstance(x, str) else (x or {}).get("virtualNetwork"), near(v)) is not None]
    for z in doc["privateDnsZones"]:
        z["virtualNetworkLinks"] = [link for link in z.get("virtualNetworkLinks") or []
                                    if vnets.find(link.get("virtualNetwork"), near(z)) is not None]
    kept = []
    for e in doc["privateEndpoints"]:
        sn = e.get("subnet") or ""
        cut = sn.lower().rfind("/subnets/") if sn.startswith("/") else -1
        vnet_ref, subnet_name = (sn[:cut], sn[cut + 9:]) if cut > 0 else (sn.partition("/")[0], sn.partition("/")[2])
        vnet = vnets.find(vnet_ref, near(e))
        has_subnet = vnet is not None and any((s.get("name") or "").lower() == subnet_name.lower()
                                              for s in vnet.get("subnets") or [])
        target = e.get("privateLinkServiceId") or ""
        tparts = parse_arm_id(target)
        arc = tparts is not None and f"{tparts['ns']}/{tparts['type']}".lower() == cat.ARC_RESOURCE_TYPE.lower()
        if not has_subnet or not target or (arc and scopes.find(target) is None):
            continue
        if e.get("privateDnsZoneGroup") is not None:
            group = []
            for ref in e["privateDnsZoneGroup"]:
                zone = zones.find(ref, near(e))
                if zone is not None:  # by name where the name is the zone's own, else by its id
                    group.append(ref if not ref.startswith("/") or zones.shared(zone["name"]) else zone["name"])
            e["privateDnsZoneGroup"] = group
        kept.append(e)
    doc["privateEndpoints"] = kept
    doc["dnsForwarders"] = [f for f in doc["dnsForwarders"]
                            if _inside(f.get("ipAddress"), nets(vnets.find(f.get("virtualNetwork"), near(f))))]
    sites = {}
    for site in doc["sites"]:
        site["connections"] = [c for c in site.get("connections") or [] if vnets.find(c.get("virtualNetwork"))]
        try:
            sites[site["name"].lower()] = [ipaddress.ip_network(a) for a in site.get("addressSpace") or []]
        except ValueError:
            sites[site["name"].lower()] = []
    for c in doc["clusters"]:
        def scope_exists(ref: str, c: dict = c) -> bool:
            return scopes.find(ref, near(c)) is not None

        drop_dangling_cluster(c, scope_exists, sites)


def drop_dangling_cluster(c: dict, scope_exists: Callable[[str], bool], sites: Mapping[str, list[IPNetwork]]) -> None:
    """A cluster entry's references to a scope and a site (by lower-case name: its networks) that do not hold, dropped."""
    if c.get("privateLinkScopeResourceId") and not scope_exists(c["privateLinkScopeResourceId"]):
        c.pop("privateLinkScopeResourceId")
    if c.get("site") and c["site"].lower() not in sites:
        c.pop("site")
    if c.get("address"):
        if not _inside(c["address"], sites[c["site"].lower()] if c.get("site") else _ANY):
            c.pop("address")


_ANY = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def _inside(address: object, nets: Iterable[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)  # type: ignore[arg-type]  # anything a JSON document holds
    except (ValueError, TypeError):
        return False
    return any(ip.version == n.version and ip in n for n in nets)
