"""ARM resources <-> topology: how the emulator's store becomes an ``Index`` and back.

``index_from_resources`` reads the ARM JSON the emulator stores (plus the on-premises
facts ARM does not have: sites and DNS forwarders) and builds the same ``Index`` a
topology file gives, so rules, resolve() and reach() see one model.
``resources_from_topology`` goes the other way: ARM request bodies, in creation
order, for ``serve --topology``, ``state import`` and ``apply``.

Conventions (ARM has no field for them): a connected cluster's site and node address
are its tags ``arclink-site`` and ``arclink-address``; optional tool versions are
``arclink-connectedk8s`` / ``arclink-azure-cli``. Cluster Connect and custom locations
are ``properties.arcAgentryConfigurations[].feature`` (``cluster-connect``,
``custom-locations``) on the connected cluster.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Iterable

import msgspec

from arclink.model import catalogue as cat
from arclink.model import schema
from arclink.model.errors import TopologyError
from arclink.model.index import DEFAULT_SUBSCRIPTION, ClusterR, Index, build_index, parse_arm_id
from arclink.model.arm_records import SOA_FIELDS, implied_soa, record_properties  # noqa: F401 (record_properties: re-exported)
from arclink.model.arm_references import drop_dangling
from arclink.model.arm_resolvers import T_INBOUND, T_RESOLVER, resolver_inbounds
from arclink.model.nsg import PLURAL_RULE_FIELDS, security_rule  # noqa: F401 (security_rule: re-exported)
from arclink.model.resolved import IPNetwork

TAG_SITE = "arclink-site"
TAG_ADDRESS = "arclink-address"
TAG_CONNECTEDK8S = "arclink-connectedk8s"
TAG_AZURE_CLI = "arclink-azure-cli"

T_RG = "microsoft.resources/resourcegroups"
T_VNET = "microsoft.network/virtualnetworks"
T_SUBNET = "microsoft.network/virtualnetworks/subnets"
T_NSG = "microsoft.network/networksecuritygroups"
T_SCOPE = "microsoft.hybridcompute/privatelinkscopes"
T_PEC = "microsoft.hybridcompute/privatelinkscopes/privateendpointconnections"
T_PE = "microsoft.network/privateendpoints"
T_ZONE_GROUP = "microsoft.network/privateendpoints/privatednszonegroups"
T_ZONE = "microsoft.network/privatednszones"
T_LINK = "microsoft.network/privatednszones/virtualnetworklinks"
T_CLUSTER = "microsoft.kubernetes/connectedclusters"
T_EXTENSION = "microsoft.kubernetesconfiguration/extensions"
RECORD_TYPES = {"a": "A", "aaaa": "AAAA", "cname": "CNAME", "txt": "TXT", "soa": "SOA"}


def parent_id(rid: str) -> str:
    """The id of the resource a child (``X/type/name``) or extension resource (``X/providers/ns/type/name``) hangs under."""
    low = rid.lower()
    i = low.rfind("/providers/")
    if i > 0 and "/providers/" in low[:i] and len(rid[i:].split("/")) == 5:
        return rid[:i]
    return rid.rsplit("/", 2)[0]


def _nm(r: dict) -> str:
    return r.get("name") or _last(r.get("id"))


def _props(r: dict) -> dict:
    p = r.get("properties")
    return p if isinstance(p, dict) else {}


def _ref(obj: object) -> str | None:
    return obj.get("id") if isinstance(obj, dict) else None


def _last(rid: str | None) -> str:
    return (rid or "").rstrip("/").rsplit("/", 1)[-1]


def _place(r: dict) -> dict:
    parts = parse_arm_id(r.get("id", "")) or {}
    out = {"subscription": parts.get("sub"), "resourceGroup": parts.get("rg")}
    if r.get("location"):
        out["location"] = r["location"]
    return out


def topology_from_resources(resources: Iterable[dict], onprem: dict | None = None) -> schema.Topology:
    """The topology the stored ARM resources (and on-premises facts) describe."""
    onprem = onprem or {}
    by_type: dict[str, list[dict]] = {}
    children: dict[tuple[str, str], list[dict]] = {}  # (parent id lower, type lower) -> children
    subs: dict[str, dict] = {}
    for r in resources:
        rid = r.get("id") or ""
        low = rid.lower()
        if low.startswith("/subscriptions/"):
            sub = rid.split("/")[2]
            subs.setdefault(sub.lower(), {"id": sub, "registeredProviders": []})
        if "namespace" in r and "registrationState" in r:
            if r.get("registrationState") == "Registered":
                subs[rid.split("/")[2].lower()]["registeredProviders"].append(r["namespace"])
            continue
        rtype = (r.get("type") or "").lower()
        by_type.setdefault(rtype, []).append(r)
        if rtype in (T_SUBNET, T_PEC, T_ZONE_GROUP, T_LINK, T_EXTENSION, T_INBOUND) or rtype.startswith(T_ZONE + "/"):
            children.setdefault((parent_id(rid).lower(), rtype), []).append(r)
    default_sub = onprem.get("defaultSubscription")
    if default_sub:
        subs.setdefault(default_sub.lower(), {"id": default_sub, "registeredProviders": []})

    def kids(parent: dict, rtype: str) -> list[dict]:
        return children.get((parent["id"].lower(), rtype), [])

    doc: dict = {"subscriptions": list(subs.values()) or [{"id": DEFAULT_SUBSCRIPTION}]}
    doc["defaults"] = {"subscription": default_sub or doc["subscriptions"][0]["id"]}
    doc["resourceGroups"] = [{"name": _nm(r), "location": r.get("location") or "", "subscription": r["id"].split("/")[2]}
                             for r in by_type.get(T_RG, [])]

    doc["networkSecurityGroups"] = []
    for r in by_type.get(T_NSG, []):
        rules = []
        for rule in _props(r).get("securityRules") or []:
            p = rule.get("properties") or {}
            rules.append({k: v for k, v in {
                "name": rule.get("name"), "priority": p.get("priority"), "direction": p.get("direction"),
                "access": p.get("access"), "protocol": p.get("protocol"),
                "sourceAddressPrefix": p.get("sourceAddressPrefix"), "sourcePortRange": p.get("sourcePortRange"),
                "destinationAddressPrefix": p.get("destinationAddressPrefix"),
                "destinationPortRange": p.get("destinationPortRange"),
                **{k: p[k] for k in PLURAL_RULE_FIELDS if isinstance(p.get(k), list) and p[k]}}.items() if v is not None})
        doc["networkSecurityGroups"].append({"name": _nm(r), **_place(r), "securityRules": rules})

    doc["virtualNetworks"] = []
    for r in by_type.get(T_VNET, []):
        p = _props(r)
        subnet_objs = kids(r, T_SUBNET) or (p.get("subnets") or [])
        subnets = []
        for s in subnet_objs:
            sp = s.get("properties") or {}
            prefix = sp.get("addressPrefix") or (sp.get("addressPrefixes") or [None])[0]
            sub = {"name": _nm(s), "addressPrefix": prefix}
            if _ref(sp.get("networkSecurityGroup")):
                sub["networkSecurityGroup"] = _ref(sp.get("networkSecurityGroup"))
            if sp.get("privateEndpointNetworkPolicies"):
                sub["privateEndpointNetworkPolicies"] = sp["privateEndpointNetworkPolicies"]
            subnets.append(sub)
        # a peering carries traffic once both sides have it (peeringState Connected)
        peerings = [{"virtualNetwork": _ref(pr["properties"].get("remoteVirtualNetwork")),
                     "allowGatewayTransit": pr["properties"].get("allowGatewayTransit") is True,
                     "useRemoteGateways": pr["properties"].get("useRemoteGateways") is True}
                    for pr in p.get("virtualNetworkPeerings") or [] if isinstance(pr, dict)
                    and isinstance(pr.get("properties"), dict)
                    and (pr["properties"].get("peeringState") or "Connected") == "Connected"]
        doc["virtualNetworks"].append({
            "name": _nm(r), **_place(r), "addressSpace": list((p.get("addressSpace") or {}).get("addressPrefixes") or []),
            "subnets": subnets, "dnsServers": list((p.get("dhcpOptions") or {}).get("dnsServers") or []),
            "peerings": [x for x in peerings if x["virtualNetwork"]]})

    doc["privateLinkScopes"] = [{
        "name": _nm(r), **_place(r), "publicNetworkAccess": _props(r).get("publicNetworkAccess") or "Disabled",
        **({"privateLinkScopeId": _props(r)["privateLinkScopeId"]} if _props(r).get("privateLinkScopeId") else {})}
        for r in by_type.get(T_SCOPE, [])]

    doc["privateDnsZones"] = []
    for r in by_type.get(T_ZONE, []):
        links = []
        for link in kids(r, T_LINK):
            lp = link.get("properties") or {}
            entry: dict[str, Any] = {"virtualNetwork": _ref(lp.get("virtualNetwork")), "name": _nm(link),
                     "registrationEnabled": bool(lp.get("registrationEnabled", False))}
            if lp.get("resolutionPolicy"):
                entry["resolutionPolicy"] = lp["resolutionPolicy"]
            links.append(entry)
        records: list[dict[str, Any]] = []
        for low_type, rtype in RECORD_TYPES.items():
            for rec in kids(r, f"{T_ZONE}/{low_type}"):
                rp = rec.get("properties") or {}
                record: dict[str, Any] = {"name": _nm(rec), "type": rtype, "ttl": int(rp.get("ttl") or 3600)}
                if rtype == "A":
                    record["addresses"] = [a.get("ipv4Address") for a in rp.get("aRecords") or [] if a.get("ipv4Address")]
                elif rtype == "AAAA":
                    record["addresses"] = [a.get("ipv6Address") for a in rp.get("aaaaRecords") or [] if a.get("ipv6Address")]
                elif rtype == "CNAME":
                    record["cname"] = (rp.get("cnameRecord") or {}).get("cname")
                elif rtype == "TXT":
                    record["txtRecords"] = [{"value": [str(v) for v in t.get("value") or []]}
                                            for t in rp.get("txtRecords") or [] if isinstance(t, dict)]
                elif rtype == "SOA":
                    soa = rp.get("soaRecord") or {}
                    record["soaRecord"] = {k: soa[k] for k in SOA_FIELDS if soa.get(k) is not None}
                    if implied_soa(record):
                        continue  # Azure makes it with the zone: a topology that names the zone has it
                records.append(record)
        doc["privateDnsZones"].append({"name": _nm(r), **{k: v for k, v in _place(r).items() if k != "location"},
                                       "virtualNetworkLinks": links, "records": records})

    doc["privateEndpoints"] = []
    for r in by_type.get(T_PE, []):
        p = _props(r)
        manual = bool(p.get("manualPrivateLinkServiceConnections"))
        conns = p.get("manualPrivateLinkServiceConnections") if manual else p.get("privateLinkServiceConnections")
        conn = ((conns or [{}])[0].get("properties") or {})
        entry = {"name": _nm(r), **_place(r), "subnet": _ref(p.get("subnet")) or "",
                 "privateLinkServiceId": conn.get("privateLinkServiceId") or "",
                 "groupIds": list(conn.get("groupIds") or []), "manualApproval": manual}
        status = (conn.get("privateLinkServiceConnectionState") or {}).get("status")
        if status in ("Approved", "Pending", "Rejected", "Disconnected"):
            entry["connectionState"] = status
        groups = kids(r, T_ZONE_GROUP)
        if groups:
            entry["privateDnsZoneGroup"] = [  # ids; _drop_dangling writes the names that only one zone has
                (c.get("properties") or {}).get("privateDnsZoneId") or ""
                for g in groups for c in (g.get("properties") or {}).get("privateDnsZoneConfigs") or []]
        fixed = {c["fqdn"]: c["ipAddresses"][0] for c in p.get("customDnsConfigs") or []
                 if c.get("fqdn") and c.get("ipAddresses")}
        # Static ipConfigurations, as the exports write them: named after the FQDN they fix.
        for c in p.get("ipConfigurations") or []:
            ip = (c.get("properties") or {}).get("privateIPAddress") if isinstance(c, dict) else None
            if ip and c.get("name") and "." in c["name"]:
                fixed.setdefault(c["name"], ip)
        if fixed:
            entry["ipAddresses"] = fixed
        doc["privateEndpoints"].append(entry)

    doc["clusters"] = [cluster_entry(r, kids(r, T_EXTENSION)) for r in by_type.get(T_CLUSTER, [])]

    # copies: dropping dangling references below must not touch the caller's on-prem facts
    doc["sites"] = copy.deepcopy(list((onprem.get("sites") or {}).values()) if isinstance(onprem.get("sites"), dict)
                                 else list(onprem.get("sites") or []))
    doc["dnsForwarders"] = copy.deepcopy(list((onprem.get("dnsForwarders") or {}).values())
                                         if isinstance(onprem.get("dnsForwarders"), dict)
                                         else list(onprem.get("dnsForwarders") or []))
    doc["dnsForwarders"] += resolver_inbounds(by_type.get(T_RESOLVER, []), lambda r: kids(r, T_INBOUND))
    drop_dangling(doc)
    try:
        return msgspec.convert(doc, schema.Topology)
    except msgspec.ValidationError as exc:
        raise TopologyError(f"the stored state does not form a topology: {exc}", code="InvalidState") from None


def cluster_entry(r: dict, extensions: list[dict]) -> dict:
    """A connectedCluster resource (and its extension resources) as the topology document's cluster entry."""
    p = _props(r)
    tags = r.get("tags") or {}
    entry = {"name": _nm(r), **_place(r), "privateLinkState": p.get("privateLinkState") or "Disabled"}
    if p.get("privateLinkScopeResourceId"):
        entry["privateLinkScopeResourceId"] = p["privateLinkScopeResourceId"]
    if tags.get(TAG_SITE):
        entry["site"] = tags[TAG_SITE]
    if tags.get(TAG_ADDRESS):
        entry["address"] = tags[TAG_ADDRESS]
    tools = {k: tags[t] for k, t in (("connectedk8s", TAG_CONNECTEDK8S), ("azureCli", TAG_AZURE_CLI)) if tags.get(t)}
    if tools:
        entry["tools"] = tools
    entry["extensions"] = [(e.get("properties") or {}).get("extensionType") or e.get("name") for e in extensions]
    entry["features"] = [c.get("feature") for c in p.get("arcAgentryConfigurations") or []
                         if isinstance(c, dict) and isinstance(c.get("feature"), str) and c.get("feature")]
    if p.get("agentPublicKeyCertificate"):
        entry["agentPublicKeyCertificate"] = p["agentPublicKeyCertificate"]
    return entry


def index_from_resources(resources: Iterable[dict], onprem: dict | None = None) -> Index:
    """ARM JSON -> ``schema.Topology`` -> ``build_index``."""
    return build_index(topology_from_resources(resources, onprem))


# --- topology -> ARM ---------------------------------------------------------------------------


def extension_name(extension_type: str) -> str:
    """The extension resource name for a type, as the az k8s-extension docs name them:
    microsoft.flux -> flux, microsoft.azuremonitor.containers -> azuremonitor-containers."""
    t = extension_type.lower()
    if t.startswith("microsoft."):
        t = t[len("microsoft."):]
    return re.sub(r"[^a-z0-9-]", "-", t)[:63] or "extension"


def cluster_tags(c: ClusterR) -> dict[str, str]:
    """A connected cluster's site, address and tool versions as the tags that carry them."""
    tags: dict[str, str] = {}
    if c.site is not None:
        tags[TAG_SITE] = c.site.name
    if c.address:
        tags[TAG_ADDRESS] = c.address
    tools = c.spec.tools
    if tools and tools.connectedk8s:
        tags[TAG_CONNECTEDK8S] = tools.connectedk8s
    if tools and tools.azure_cli:
        tags[TAG_AZURE_CLI] = tools.azure_cli
    return tags


def resources_from_topology(topo: schema.Topology) -> tuple[list[dict], dict]:
    """ARM request bodies (each with ``id`` and ``type``), in creation order, and the on-prem facts.

    Provider registrations come first (as ``{"id": .../providers/NS, "namespace", "registrationState"}``),
    then resource groups, NSGs, VNets (subnets inline), scopes, zones with links and records,
    private endpoints with their zone groups, clusters and their extensions.
    """
    ix = build_index(topo)  # validates and fills defaults (ids, locations, addresses)
    out: list[dict] = []
    for sub in ix.subscriptions.values():
        for ns in sub.registered_providers:
            out.append({"id": f"/subscriptions/{sub.id}/providers/{ns}", "namespace": ns,
                        "registrationState": "Registered"})
    rgs: dict[tuple[str, str], str] = {}
    for (sub_key, rg_key), spec in ix.resource_groups.items():
        rgs[(sub_key, rg_key)] = spec.location
    used = [*ix.nsgs.values(), *ix.vnets.values(), *ix.scopes.values(), *ix.zones.values(), *ix.endpoints.values(),
            *ix.clusters.values()]
    for r in used:
        rgs.setdefault((r.subscription.lower(), r.resource_group.lower()),
                       r.location if r.location != "global" else ix.default_location)
    names: dict[tuple[str, str], tuple[str, str]] = {}
    for r in used:
        names[(r.subscription.lower(), r.resource_group.lower())] = (r.subscription, r.resource_group)
    for (sub_key, rg_key), spec in ix.resource_groups.items():
        names[(sub_key, rg_key)] = (spec.subscription or ix.default_subscription, spec.name)
    for key, loc in rgs.items():
        sub_name, rg_name = names.get(key, key)
        out.append({"id": f"/subscriptions/{sub_name}/resourceGroups/{rg_name}", "type": "Microsoft.Resources/resourceGroups",
                    "location": loc})
    for n in ix.nsgs.values():
        out.append({"id": n.id, "type": "Microsoft.Network/networkSecurityGroups", "location": n.location,
                    "properties": {"securityRules": [security_rule(s) for s in n.spec.security_rules]}})
    for v in ix.vnets.values():
        subnets = []
        for s in v.subnets.values():
            sp: dict[str, Any] = {"addressPrefix": s.spec.address_prefix,
                  "privateEndpointNetworkPolicies": s.spec.private_endpoint_network_policies}
            if s.nsg is not None:
                sp["networkSecurityGroup"] = {"id": s.nsg.id}
            subnets.append({"name": s.name, "properties": sp})
        props: dict[str, Any] = {"addressSpace": {"addressPrefixes": list(v.spec.address_space)}, "subnets": subnets}
        if v.peers:
            props["virtualNetworkPeerings"] = [
                {"name": f"peer-{p.name}", "properties": {"remoteVirtualNetwork": {"id": p.id}, "peeringState": "Connected",
                                                          "allowVirtualNetworkAccess": True,
                                                          "allowGatewayTransit": v.side(p).allow_gateway_transit,
                                                          "useRemoteGateways": v.side(p).use_remote_gateways}}
                for p in v.peers]
        if v.spec.dns_servers:
            props["dhcpOptions"] = {"dnsServers": list(v.spec.dns_servers)}
        out.append({"id": v.id, "type": "Microsoft.Network/virtualNetworks", "location": v.location, "properties": props})
    for scope in ix.scopes.values():
        out.append({"id": scope.id, "type": cat.ARC_RESOURCE_TYPE, "location": scope.location,
                    "properties": {"publicNetworkAccess": scope.spec.public_network_access}})
    for z in ix.zones.values():
        out.append({"id": z.id, "type": "Microsoft.Network/privateDnsZones", "location": "global"})
        for k, (vn, link) in enumerate(z.links):
            name = link.name or f"link-{vn.name}"
            out.append({"id": f"{z.id}/virtualNetworkLinks/{name}", "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
                        "location": "global", "properties": {"virtualNetwork": {"id": vn.id},
                                                             "registrationEnabled": link.registration_enabled,
                                                             "resolutionPolicy": link.resolution_policy}})
        for rec in z.spec.records:
            rprops = record_properties(rec)
            if rprops is None:
                continue
            out.append({"id": f"{z.id}/{rec.type}/{rec.name}", "type": f"Microsoft.Network/privateDnsZones/{rec.type}",
                        "properties": rprops})
    for e in ix.endpoints.values():
        conn = {"name": e.name, "properties": {"privateLinkServiceId": e.target_id, "groupIds": list(e.spec.group_ids)}}
        conns = "manualPrivateLinkServiceConnections" if e.spec.manual_approval else "privateLinkServiceConnections"
        out.append({"id": e.id, "type": "Microsoft.Network/privateEndpoints", "location": e.location,
                    "properties": {"subnet": {"id": e.subnet.id}, conns: [conn]},
                    "_arclink": {"connectionState": e.spec.connection_state,
                                 "ipAddresses": {r.record.fqdn: r.address for r in e.records}}})
        if e.zones:
            out.append({"id": f"{e.id}/privateDnsZoneGroups/default", "type": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
                        "properties": {"privateDnsZoneConfigs": [
                            {"name": z.zone_name.replace(".", "-"), "properties": {"privateDnsZoneId": z.id}} for z in e.zones]}})
    for c in ix.clusters.values():
        tags = cluster_tags(c)
        props = {"agentPublicKeyCertificate": c.spec.agent_public_key_certificate or "",
                 "privateLinkState": c.spec.private_link_state}
        if c.scope is not None:
            props["privateLinkScopeResourceId"] = c.scope.id
        elif c.spec.private_link_scope_resource_id:
            props["privateLinkScopeResourceId"] = c.spec.private_link_scope_resource_id
        if c.spec.features:
            props["arcAgentryConfigurations"] = [{"feature": f, "settings": {}} for f in c.spec.features]
        out.append({"id": c.id, "type": "Microsoft.Kubernetes/connectedClusters", "location": c.location, "tags": tags,
                    "identity": {"type": "SystemAssigned"}, "properties": props})
        for ext in c.spec.extensions:
            name = extension_name(ext)
            out.append({"id": f"{c.id}/providers/Microsoft.KubernetesConfiguration/extensions/{name}",
                        "type": "Microsoft.KubernetesConfiguration/extensions",
                        "properties": {"extensionType": ext}})
    onprem = {"defaultSubscription": ix.default_subscription,
              "sites": {s.name.lower(): msgspec.to_builtins(s.spec) for s in ix.sites.values()},
              "dnsForwarders": {f.name.lower(): msgspec.to_builtins(f.spec) for f in ix.forwarders.values()}}
    return out, onprem
