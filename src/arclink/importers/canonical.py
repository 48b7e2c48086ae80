"""Two forms of a topology: ``tidy`` (the file an import writes) and ``view`` (what ``diff`` compares).

``tidy`` turns what ARM returned into a file a person would have written: references by name,
the most common subscription, resource group and location as ``defaults`` and left out where
they apply, what Azure derives left out (the A records a private endpoint's zone group writes, the
link names ``apply`` gives, agent keys), every list in a stable order. The same state gives the
same bytes, so the file diffs well in git.

``view`` resolves a topology through the index (defaults filled in, references by name, addresses
allocated) into ``{section: {name: properties}}``; two topologies that mean the same thing give the
same view however they were written.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec

from arclink.model import schema
from arclink.model.index import build_index
from arclink.model.resolved import Index

SECTIONS = ("subscriptions", "resourceGroups", "networkSecurityGroups", "virtualNetworks", "privateLinkScopes",
            "privateDnsZones", "privateEndpoints", "dnsForwarders", "sites", "clusters")


IMPLICIT = "microsoft.resources"  # the provider every subscription has registered


def _low(s: str | None) -> str:
    return (s or "").lower()


def zone_group_records(ix: Index) -> set[tuple[str, str, str]]:
    """(zone, label, address) of every A record a private endpoint's zone group writes."""
    return {(z.zone_name, pr.record.label, pr.address) for pe in ix.endpoints.values() for z in pe.zones
            for pr in pe.records if pr.record.zone.private_zone == z.zone_name}


def _written_by_zone_group(zone: str, rec: dict, written: set[tuple[str, str, str]]) -> bool:
    return (rec.get("type", "A") == "A" and len(rec.get("addresses") or []) == 1
            and (zone.lower(), _low(rec.get("name")), rec["addresses"][0]) in written)


def tidy(topo: schema.Topology) -> schema.Topology:
    """The topology as a person would write it (see the module docstring)."""
    ix = build_index(topo)
    doc: dict[str, Any] = msgspec.to_builtins(topo)
    written = zone_group_records(ix)

    def vnet_name(ref: str | None) -> str | None:
        v = ix.vnet(ref)
        return v.spec.name if v is not None else ref

    for v in doc.get("virtualNetworks", []):
        v["peerings"] = sorted({vnet_name(p) or p for p in v.get("peerings", [])}, key=_low)
        for s in v.get("subnets", []):
            if s.get("networkSecurityGroup"):
                n = ix.nsg(s["networkSecurityGroup"])
                s["networkSecurityGroup"] = n.spec.name if n is not None else s["networkSecurityGroup"]
        v["subnets"] = sorted(v.get("subnets", []), key=lambda s: _low(s["name"]))
        for g in v.get("gatewayTransit", []):
            g["virtualNetwork"] = vnet_name(g["virtualNetwork"])
    for n in doc.get("networkSecurityGroups", []):
        n["securityRules"] = sorted(n.get("securityRules", []),
                                    key=lambda r: (r["direction"], r["priority"], _low(r["name"])))
    for z in doc.get("privateDnsZones", []):
        for link in z.get("virtualNetworkLinks", []):
            link["virtualNetwork"] = vnet_name(link["virtualNetwork"])
            if _low(link.get("name")) == _low(f"link-{link['virtualNetwork']}"):
                link.pop("name")  # the name arclink apply gives a link
        z["virtualNetworkLinks"] = sorted(z.get("virtualNetworkLinks", []), key=lambda l: _low(l["virtualNetwork"]))
        z["records"] = sorted((r for r in z.get("records", []) if not _written_by_zone_group(z["name"], r, written)),
                              key=lambda r: (_low(r["name"]), r.get("type", "A")))
    for e in doc.get("privateEndpoints", []):
        pe = ix.endpoints[_low(e["name"])]
        e["subnet"] = f"{pe.subnet.vnet.spec.name}/{pe.subnet.name}"
        if pe.scope is not None:
            e["privateLinkServiceId"] = pe.scope.spec.name
        if e.get("connectionState") == "Approved" and not e.get("manualApproval"):
            e.pop("connectionState")  # what an automatic connection is
        if e.get("ipAddresses"):
            e["ipAddresses"] = dict(sorted(e["ipAddresses"].items()))
    for f in doc.get("dnsForwarders", []):
        f["virtualNetwork"] = vnet_name(f["virtualNetwork"])
    for s in doc.get("sites", []):
        for c in s.get("connections", []):
            c["virtualNetwork"] = vnet_name(c["virtualNetwork"])
    for c in doc.get("clusters", []):
        cr = ix.clusters[_low(c["name"])]
        if cr.scope is not None:
            c["privateLinkScopeResourceId"] = cr.scope.spec.name
        c.pop("agentPublicKeyCertificate", None)  # a key, not a plan; it changes on every onboarding
        c["extensions"] = sorted(c.get("extensions", []))
        c["features"] = sorted(c.get("features", []))
    # Microsoft.Resources is registered everywhere; an empty subscription is no part of the deployment.
    held = {_low(r.subscription) for table in (ix.nsgs, ix.vnets, ix.scopes, ix.zones, ix.endpoints, ix.clusters)
            for r in table.values()}
    held |= {sub for sub, _ in ix.resource_groups}
    if held:
        doc["subscriptions"] = [s for s in doc.get("subscriptions", []) if _low(s["id"]) in held]
    for s in doc.get("subscriptions", []):
        s["registeredProviders"] = sorted((p for p in s.get("registeredProviders", []) if _low(p) != IMPLICIT),
                                          key=_low)
    _defaults(doc, ix)
    for key in SECTIONS:
        if key == "resourceGroups":
            doc[key] = sorted(doc.get(key, []), key=lambda r: (_low(r.get("subscription")), _low(r["name"])))
        elif key == "subscriptions":
            doc[key] = sorted(doc.get(key, []), key=lambda s: _low(s["id"]))
        else:
            doc[key] = sorted(doc.get(key, []), key=lambda r: _low(r["name"]))
    return msgspec.convert(doc, schema.Topology)


_PLACED = ("networkSecurityGroups", "virtualNetworks", "privateLinkScopes", "privateDnsZones", "privateEndpoints",
           "dnsForwarders", "clusters")


def _defaults(doc: dict[str, Any], ix: Index) -> None:
    """The most common placement becomes ``defaults``; each resource keeps only what differs."""
    placed = [(key, r) for key in _PLACED for r in doc.get(key, [])]
    if not placed:
        return
    tables = {"networkSecurityGroups": ix.nsgs, "virtualNetworks": ix.vnets, "privateLinkScopes": ix.scopes,
              "privateDnsZones": ix.zones, "privateEndpoints": ix.endpoints, "dnsForwarders": ix.forwarders,
              "clusters": ix.clusters}
    for key, r in placed:  # what the old defaults gave, written out before the defaults change
        res = tables[key].get(_low(r["name"]))
        if res is not None:
            r.setdefault("subscription", res.subscription)
            r.setdefault("resourceGroup", res.resource_group)
            if key != "privateDnsZones":
                r.setdefault("location", res.location)
    subs = Counter(r.get("subscription") or ix.default_subscription for _, r in placed)
    sub = subs.most_common(1)[0][0]
    rgs = Counter(r.get("resourceGroup") for _, r in placed if r.get("resourceGroup"))
    rg = rgs.most_common(1)[0][0] if rgs else None
    locs = Counter(r.get("location") for _, r in placed if r.get("location"))
    loc = locs.most_common(1)[0][0] if locs else None
    doc["defaults"] = {k: v for k, v in (("subscription", sub), ("resourceGroup", rg), ("location", loc)) if v}
    rg_location = {(_low(g.get("subscription") or sub), _low(g["name"])): g["location"]
                   for g in doc.get("resourceGroups", [])}
    for g in doc.get("resourceGroups", []):
        if _low(g.get("subscription")) == _low(sub):
            g.pop("subscription", None)
    for _, r in placed:
        if _low(r.get("subscription")) == _low(sub):
            r.pop("subscription", None)
        if rg and r.get("resourceGroup") and _low(r["resourceGroup"]) == _low(rg):
            r.pop("resourceGroup")
        if r.get("location"):
            # left out, a resource takes its group's location, else the default location
            fallback = rg_location.get((_low(r.get("subscription") or sub), _low(r.get("resourceGroup") or rg))) or loc
            if fallback and _low(fallback).replace(" ", "") == _low(r["location"]).replace(" ", ""):
                r.pop("location")


# --- the resolved view, for diff ------------------------------------------------------------------------


def view(topo: schema.Topology | Index) -> dict[str, dict[str, dict[str, Any]]]:
    """``{section: {name (lower): {property: value}}}`` of what the topology means."""
    ix = topo if isinstance(topo, Index) else build_index(topo)
    written = zone_group_records(ix)
    out: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in SECTIONS}
    pinned = lambda r: {"subscription": r.subscription.lower(), "resourceGroup": r.resource_group.lower(),  # noqa: E731
                        "location": r.location}
    for sid, s in ix.subscriptions.items():
        out["subscriptions"][sid] = {"registeredProviders": sorted(p.lower() for p in s.registered_providers
                                                                         if p.lower() != IMPLICIT)}
    for (sub, rg), g in ix.resource_groups.items():
        out["resourceGroups"][f"{sub}/{rg}"] = {"location": g.location.lower().replace(" ", "")}
    for k, n in ix.nsgs.items():
        rules = {r.name.lower(): msgspec.to_builtins(r) for r in n.spec.security_rules}
        for r in rules.values():
            for f in ("protocol", "sourceAddressPrefix", "sourcePortRange", "destinationAddressPrefix",
                      "destinationPortRange"):
                r.setdefault(f, "*")
            r.pop("name", None)
        out["networkSecurityGroups"][k] = {**pinned(n), "securityRules": rules}
    for k, v in ix.vnets.items():
        out["virtualNetworks"][k] = {
            **pinned(v), "addressSpace": sorted(str(n) for n in v.networks), "dnsServers": list(v.spec.dns_servers),
            "subnets": {sk: {"addressPrefix": str(s.network), "networkSecurityGroup": s.nsg.spec.name.lower() if s.nsg else None,
                             "privateEndpointNetworkPolicies": s.spec.private_endpoint_network_policies}
                        for sk, s in v.subnets.items()},
            "peerings": sorted(p.spec.name.lower() for p in v.peers)}
    for k, sc in ix.scopes.items():
        out["privateLinkScopes"][k] = {**pinned(sc), "publicNetworkAccess": sc.spec.public_network_access}
    for k, z in ix.zones.items():
        records = {}
        for r in z.spec.records:
            d = msgspec.to_builtins(r)
            if _written_by_zone_group(z.zone_name, d, written):
                continue
            records[f"{r.name.lower()} {r.type}"] = {"ttl": r.ttl, "addresses": sorted(r.addresses),
                                                     "cname": (r.cname or "").rstrip(".").lower() or None}
        out["privateDnsZones"][k] = {
            "subscription": z.subscription.lower(), "resourceGroup": z.resource_group.lower(),
            "virtualNetworkLinks": {vn.spec.name.lower(): {"registrationEnabled": link.registration_enabled,
                                                           "resolutionPolicy": link.resolution_policy}
                                    for vn, link in z.links},
            "records": records}
    for k, e in ix.endpoints.items():
        out["privateEndpoints"][k] = {
            **pinned(e), "subnet": f"{e.subnet.vnet.spec.name}/{e.subnet.name}".lower(),
            "privateLinkService": e.scope.spec.name.lower() if e.scope is not None else e.target_id.lower(),
            "groupIds": sorted(g.lower() for g in e.spec.group_ids), "manualApproval": e.spec.manual_approval,
            "connectionState": e.state,
            "privateDnsZoneGroup": None if e.spec.private_dns_zone_group is None else sorted(z.zone_name for z in e.zones),
            "addresses": {r.record.fqdn: r.address for r in e.records}}
    for k, f in ix.forwarders.items():
        out["dnsForwarders"][k] = {**pinned(f), "kind": f.spec.kind, "virtualNetwork": f.vnet.spec.name.lower(),
                                   "ipAddress": str(f.ip)}
    for k, s in ix.sites.items():
        out["sites"][k] = site_view(s.spec)
    for k, c in ix.clusters.items():
        tools = msgspec.to_builtins(c.spec.tools) if c.spec.tools else {}
        out["clusters"][k] = {
            **pinned(c), "site": c.site.spec.name.lower() if c.site else None, "address": c.address,
            "privateLinkState": c.spec.private_link_state,
            "privateLinkScope": c.scope.spec.name.lower() if c.scope else (c.spec.private_link_scope_resource_id or None),
            "extensions": sorted(x.lower() for x in c.spec.extensions), "features": sorted(c.spec.features),
            "tools": tools}
    return out


def _zone(z: str) -> str:
    return z.rstrip(".").lower()


def dns_view(dns: schema.SiteDns | None) -> dict[str, Any] | None:
    """A site's DNS server as the set of facts it holds (order and trailing dots do not matter)."""
    if dns is None:
        return None
    return {
        "address": dns.address,
        "conditionalForwarders": {_zone(cf.zone): sorted(cf.targets) for cf in dns.conditional_forwarders},
        "zones": sorted({_zone(z) for z in dns.zones}),
        "records": {f"{_zone(r.name)} {r.type}": {"ttl": r.ttl, "addresses": sorted(r.addresses),
                                                  "cname": _zone(r.cname) if r.cname else None}
                    for r in dns.records},
        "upstream": dns.upstream}


def site_view(site: schema.Site) -> dict[str, Any]:
    fw = site.firewall
    return {"addressSpace": sorted(site.address_space),
            "connections": sorted(f"{c.type} {c.virtual_network.rsplit('/', 1)[-1].lower()}" for c in site.connections),
            "dns": dns_view(site.dns),
            "firewall": None if fw is None else {"allowAll": fw.allow_all, "outbound": sorted(fw.outbound),
                                                 "inbound": sorted(fw.inbound)}}
