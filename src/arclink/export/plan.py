"""One ordered deployment plan from a topology: every exporter and ``arclink apply`` render this.

A step is one ARM PUT (or provider registration) with its ARM id, type, api-version and
request body, plus the steps it depends on. The order is the order Azure needs:
providers, resource groups, NSGs, VNets, peerings, the scope, private DNS zones, their
VNet links and records, private endpoints, their DNS zone groups, then the on-premises
parts (DNS forwarders in Azure, sites) as ``azure=False`` steps, then clusters and their
extensions. On-premises steps are not ARM resources: the emulator takes them through its
control API, the DNS exporters render them, the Azure formats leave them out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import msgspec

from arclink.model import catalogue as cat
from arclink.model.arm_codec import cluster_tags, extension_name, record_properties, security_rule
from arclink.model.index import ClusterR, Index, PeR, VNetR, ZoneR

# api-versions the templates pin: the versions of the specs in shared/specs
# (reference/arm-api.md §0), all of which the real service lists. The one table for every
# format (az script, ARM, Bicep, Terraform's azapi resources) and for `arclink apply`.
API_VERSIONS = {
    "Microsoft.Resources/providers": "2025-04-01",
    "Microsoft.Resources/resourceGroups": "2025-04-01",
    "Microsoft.Resources/deployments": "2025-04-01",
    "Microsoft.Network/networkSecurityGroups": "2025-07-01",
    "Microsoft.Network/virtualNetworks": "2025-07-01",
    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings": "2025-07-01",
    "Microsoft.Network/privateEndpoints": "2025-07-01",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "2025-07-01",
    "Microsoft.Network/privateDnsZones": "2024-06-01",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "2024-06-01",
    "Microsoft.Network/privateDnsZones/A": "2024-06-01",
    "Microsoft.Network/privateDnsZones/CNAME": "2024-06-01",
    "Microsoft.Network/privateDnsZones/AAAA": "2024-06-01",
    "Microsoft.HybridCompute/privateLinkScopes": "2025-01-13",
    "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections": "2025-01-13",
    "Microsoft.Kubernetes/connectedClusters": "2026-05-01",
    "Microsoft.KubernetesConfiguration/extensions": "2025-03-01",
    "Microsoft.Insights/privateLinkScopes": "2021-07-01-preview",
}

# Providers every private-link plan needs, besides those a subscription lists.
PLAN_PROVIDERS = ("Microsoft.Network", "Microsoft.HybridCompute") + cat.REQUIRED_PROVIDERS

ZONE_GROUP_NAME = "default"


@dataclass
class Step:
    kind: str  # provider, resourceGroup, networkSecurityGroup, virtualNetwork, ... site
    key: str  # unique symbolic name: [a-z0-9_], used as identifier by ARM/Bicep/Terraform
    id: str  # ARM id ("site:<name>" / "dnsForwarder:<name>" for on-premises steps)
    type: str  # ARM resource type
    name: str  # ARM name (child resources: their own segment)
    subscription: str
    resource_group: str | None
    location: str | None
    body: dict  # the ARM PUT body; for on-premises steps the topology object
    title: str  # one line for people: "create private endpoint pe-arc in vnet-hub/snet-endpoints"
    depends_on: list[str] = field(default_factory=list)
    azure: bool = True
    source: object = None  # the resolved model object

    @property
    def api_version(self) -> str | None:
        return API_VERSIONS.get(self.type)

    @property
    def parent(self) -> str | None:
        """The key of the resource this child resource lives under (links, zone groups...)."""
        return self.depends_on[0] if self.kind in _CHILD_KINDS else None


def monitor_scope(step: Step) -> str:
    """The Azure Monitor Private Link Scope an endpoint step connects to, else "".

    The topology names such a scope only as an endpoint's target, so whatever deploys the plan
    (``arclink apply``, ``deploy.sh``, ``main.tf``) creates it just before the endpoint."""
    props = step.body.get("properties") or {}
    for conn in (props.get("privateLinkServiceConnections") or []) + (props.get("manualPrivateLinkServiceConnections") or []):
        target = (conn.get("properties") or {}).get("privateLinkServiceId") or ""
        if "/providers/microsoft.insights/privatelinkscopes/" in target.lower():
            return target
    return ""


_CHILD_KINDS = {"virtualNetworkPeering", "virtualNetworkLink", "recordSet", "privateDnsZoneGroup", "extension"}


@dataclass
class Plan:
    index: Index
    steps: list[Step]

    def __post_init__(self):
        self.by_key = {s.key: s for s in self.steps}

    @property
    def azure_steps(self) -> list[Step]:
        return [s for s in self.steps if s.azure]

    def of_kind(self, kind: str) -> list[Step]:
        return [s for s in self.steps if s.kind == kind]


def seed_security_rules() -> list[dict]:
    """The seed's NSG table as ARM security rules: four rules, Front Door in both directions.

    The inbound Front Door rule needs its own name (names are unique in an NSG) and, being
    the other direction, may share priority 152.
    """
    out = []
    for r in cat.SEED_NSG_RULES:
        for direction in sorted(r["directions"], reverse=True):  # Outbound, then Inbound
            name = r["name"] if direction == "Outbound" or len(r["directions"]) == 1 else "AllowAzureFrontDoorFirstPartyInbound"
            if direction == "Outbound":
                src, dst = "VirtualNetwork", r["tag"]
            else:
                src, dst = r["tag"], "VirtualNetwork"
            out.append({"name": name, "properties": {
                "protocol": "Tcp", "access": "Allow", "priority": r["priority"], "direction": direction,
                "sourceAddressPrefix": src, "sourcePortRange": "*",
                "destinationAddressPrefix": dst, "destinationPortRange": "443",
                "description": f"Arc private link: {r['tag']} TCP 443 ({direction.lower()})"}})
    return out


def _far_ends(p: dict) -> list[str]:
    """The address prefixes at a rule's far end (the source inbound, the destination outbound)."""
    key = "sourceAddressPrefix" if p["direction"] == "Inbound" else "destinationAddressPrefix"
    return list(p.get(key + "es") or [p[key]])


class PlanError(ValueError):
    """The topology cannot be planned as written; ``str()`` says what and how to fix it."""


def peering_flags(ix: Index, vnet: VNetR, peer: VNetR) -> dict[str, bool]:
    """``allowGatewayTransit`` / ``useRemoteGateways`` of ``vnet``'s peering with ``peer``: the model's
    (``VNetR.side``, the topology's ``peerings`` entry), the same flags ``reach()`` routes by."""
    side = vnet.side(peer)
    return {"allowGatewayTransit": side.allow_gateway_transit, "useRemoteGateways": side.use_remote_gateways}


def ip_configurations(pe: PeR) -> list[dict]:
    """The endpoint's static ``ipConfigurations``: one per FQDN the topology fixes (``ipAddresses``),
    named after the FQDN, with the required member of its zone (``catalogue.ARC_ZONE_MEMBERS``)."""
    fixed = {k.lower(): v for k, v in pe.spec.ip_addresses.items()}
    out = []
    for rec in pe.records:
        address = fixed.get(rec.record.fqdn.lower())
        if address:
            out.append({"name": rec.record.fqdn, "properties": {
                "groupId": cat.ARC_GROUP_ID, "memberName": cat.ARC_ZONE_MEMBERS[rec.record.zone.key],
                "privateIPAddress": address}})
    return out


class _Builder:
    def __init__(self, ix: Index):
        self.ix = ix
        self.steps: list[Step] = []
        self.keys: set[str] = set()
        self.key_of: dict[str, str] = {}  # lower ARM id -> step key

    def key(self, prefix: str, name: str) -> str:
        base = prefix + "_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        k, n = base, 2
        while k in self.keys:
            k, n = f"{base}_{n}", n + 1
        self.keys.add(k)
        return k

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        self.key_of[step.id.lower()] = step.key
        return step

    def ref(self, arm_id: str) -> str | None:
        return self.key_of.get(arm_id.lower())

    def rg_key(self, sub: str, rg: str) -> str:
        return self.key_of[f"/subscriptions/{sub}/resourcegroups/{rg}".lower()]

    # --- steps ----------------------------------------------------------------------------------
    def build(self) -> Plan:
        ix = self.ix
        self.providers()
        self.resource_groups()
        for nsg in ix.nsgs.values():
            self.nsg(nsg)
        for vnet in ix.vnets.values():
            self.vnet(vnet)
        # Sites before peerings: a site's VPN or ExpressRoute connection is what gives its VNet the
        # gateway that a spoke's peering with useRemoteGateways needs.
        for site in ix.sites.values():
            self.add(Step("site", self.key("site", site.name), f"site:{site.name}", "arclink/sites", site.name,
                          ix.default_subscription, None, None, msgspec.to_builtins(site.spec),
                          f"on-premises site {site.name} ({', '.join(site.spec.address_space)})", [], azure=False,
                          source=site))
        self.peerings()
        for scope in ix.scopes.values():
            self.add(Step("privateLinkScope", self.key("pls", scope.name), scope.id, cat.ARC_RESOURCE_TYPE, scope.name,
                          scope.subscription, scope.resource_group, scope.location,
                          {"location": scope.location,
                           "properties": {"publicNetworkAccess": scope.spec.public_network_access}},
                          f"create Azure Arc Private Link Scope {scope.name} (public network access "
                          f"{scope.spec.public_network_access})",
                          [self.rg_key(scope.subscription, scope.resource_group)], source=scope))
        for zone in ix.zones.values():
            self.zone(zone)
        for pe in ix.endpoints.values():
            self.endpoint(pe)
        # On-premises facts before clusters: a cluster names the site it runs in.
        for fwd in ix.forwarders.values():
            self.add(Step("dnsForwarder", self.key("fwd", fwd.name), f"dnsForwarder:{fwd.name}", "arclink/dnsForwarders",
                          fwd.name, fwd.subscription, fwd.resource_group, fwd.location,
                          msgspec.to_builtins(fwd.spec),
                          f"DNS forwarder {fwd.name} ({fwd.spec.kind}) at {fwd.spec.ip_address} in {fwd.vnet.name}",
                          [k for k in [self.ref(fwd.vnet.id)] if k], azure=False, source=fwd))
        for cl in ix.clusters.values():
            self.cluster(cl)
        return Plan(ix, self.steps)

    def providers(self):
        ix = self.ix
        for sub_id, sub in ix.subscriptions.items():
            wanted: list[str] = []
            for ns in list(sub.registered_providers) + list(PLAN_PROVIDERS):
                if ns.lower() not in {w.lower() for w in wanted}:
                    wanted.append(ns)
            for ns in wanted:
                self.add(Step("provider", self.key("provider", f"{sub.id[:8]}_{ns}"), f"/subscriptions/{sub.id}/providers/{ns}",
                              "Microsoft.Resources/providers", ns, sub.id, None, None, {},
                              f"register resource provider {ns}"))

    def resource_groups(self):
        ix = self.ix
        used: dict[tuple[str, str], str] = {}
        for (sub, rg), spec in ix.resource_groups.items():
            used[(sub, rg)] = spec.name
        for table in (ix.nsgs, ix.vnets, ix.scopes, ix.zones, ix.endpoints, ix.clusters):
            for r in table.values():
                used.setdefault((r.subscription.lower(), r.resource_group.lower()), r.resource_group)
        for (sub_l, rg_l), name in used.items():
            spec = ix.resource_groups.get((sub_l, rg_l))
            sub = ix.subscriptions[sub_l].id if sub_l in ix.subscriptions else sub_l
            loc = cat.normalize_location(spec.location) if spec else ix.default_location
            deps = [s.key for s in self.steps if s.kind == "provider" and s.subscription.lower() == sub_l]
            self.add(Step("resourceGroup", self.key("rg", name), f"/subscriptions/{sub}/resourceGroups/{name}",
                          "Microsoft.Resources/resourceGroups", name, sub, name, loc, {"location": loc},
                          f"create resource group {name} in {loc}", deps[-1:]))

    def nsg(self, nsg):
        rules = [security_rule(r) for r in nsg.spec.security_rules]
        added = self.seed_rules_missing(nsg, rules)
        rules += added
        body = {"location": nsg.location, "properties": {"securityRules": rules}}
        names = ", ".join(f"{r['name']} ({r['properties']['priority']})" for r in rules) or "no rules"
        if added:
            names += " (the seed's rules it lacked were added)"
        self.add(Step("networkSecurityGroup", self.key("nsg", nsg.name), nsg.id, "Microsoft.Network/networkSecurityGroups",
                      nsg.name, nsg.subscription, nsg.resource_group, nsg.location, body,
                      f"create network security group {nsg.name}: {names}",
                      [self.rg_key(nsg.subscription, nsg.resource_group)], source=nsg))

    def seed_rules_missing(self, nsg, rules: list[dict]) -> list[dict]:
        """The seed's NSG rules an NSG lacks, when it guards an Arc private endpoint's subnet.

        "configure the network security group (NSG) associated with your subnet in Azure to allow
        outbound TCP 443 ..." (the seed). Only added where neither the name nor the priority in
        that direction is taken, so nothing the user wrote is displaced.
        """
        guards_arc = any(pe.is_arc and pe.subnet is not None and pe.subnet.nsg is nsg
                         for pe in self.ix.endpoints.values())
        if not guards_arc:
            return []
        names = {r["name"].lower() for r in rules}
        slots = {(r["properties"]["direction"], r["properties"]["priority"]) for r in rules}
        covered = {(r["properties"]["direction"], tag)
                   for r in rules if r["properties"]["access"] == "Allow"
                   for tag in _far_ends(r["properties"])}
        out = []
        for r in seed_security_rules():
            p = r["properties"]
            tag = p["sourceAddressPrefix"] if p["direction"] == "Inbound" else p["destinationAddressPrefix"]
            if (p["direction"], tag) in covered or r["name"].lower() in names or (p["direction"], p["priority"]) in slots:
                continue
            out.append(r)
        return out

    def vnet(self, vnet):
        subnets, deps = [], [self.rg_key(vnet.subscription, vnet.resource_group)]
        for s in vnet.subnets.values():
            props = {"addressPrefix": s.spec.address_prefix,
                     "privateEndpointNetworkPolicies": s.spec.private_endpoint_network_policies}
            if s.nsg is not None:
                props["networkSecurityGroup"] = {"id": s.nsg.id}
                deps.append(self.ref(s.nsg.id))
            subnets.append({"name": s.name, "properties": props})
        props = {"addressSpace": {"addressPrefixes": list(vnet.spec.address_space)}, "subnets": subnets}
        if vnet.spec.dns_servers:
            props["dhcpOptions"] = {"dnsServers": list(vnet.spec.dns_servers)}
        self.add(Step("virtualNetwork", self.key("vnet", vnet.name), vnet.id, "Microsoft.Network/virtualNetworks", vnet.name,
                      vnet.subscription, vnet.resource_group, vnet.location, {"location": vnet.location, "properties": props},
                      f"create virtual network {vnet.name} ({', '.join(vnet.spec.address_space)}) with subnets "
                      + ", ".join(f"{s.name} {s.spec.address_prefix}" for s in vnet.subnets.values()),
                      list(dict.fromkeys(d for d in deps if d)), source=vnet))

    def peerings(self):
        pairs = [(vnet, peer, peering_flags(self.ix, vnet, peer)) for vnet in self.ix.vnets.values() for peer in vnet.peers]
        # The hub's side (allowing transit) before the spoke's side that uses it.
        pairs.sort(key=lambda t: t[2]["useRemoteGateways"])
        for vnet, peer, flags in pairs:
            name = f"{vnet.name}-to-{peer.name}"
            transit = (" (allows gateway transit)" if flags["allowGatewayTransit"] else "") + \
                (" (uses remote gateways)" if flags["useRemoteGateways"] else "")
            self.add(Step("virtualNetworkPeering", self.key("peer", name), f"{vnet.id}/virtualNetworkPeerings/{name}",
                          "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", name, vnet.subscription,
                          vnet.resource_group, None,
                          {"properties": {"remoteVirtualNetwork": {"id": peer.id}, "allowVirtualNetworkAccess": True,
                                          "allowForwardedTraffic": True, **flags}},
                          f"peer virtual network {vnet.name} with {peer.name}{transit}",
                          [self.ref(vnet.id), self.ref(peer.id)], source=vnet))

    def zone(self, zone: ZoneR):
        zkey = self.key("zone", zone.zone_name)
        self.add(Step("privateDnsZone", zkey, zone.id, "Microsoft.Network/privateDnsZones", zone.spec.name,
                      zone.subscription, zone.resource_group, "global", {"location": "global"},
                      f"create private DNS zone {zone.spec.name}",
                      [self.rg_key(zone.subscription, zone.resource_group)], source=zone))
        for vnet, link in zone.links:
            name = link.name or f"link-{vnet.name}"
            props = {"virtualNetwork": {"id": vnet.id}, "registrationEnabled": link.registration_enabled}
            if link.resolution_policy != "Default":
                props["resolutionPolicy"] = link.resolution_policy
            self.add(Step("virtualNetworkLink", self.key("link", f"{zone.zone_name}_{name}"),
                          f"{zone.id}/virtualNetworkLinks/{name}", "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
                          name, zone.subscription, zone.resource_group, "global",
                          {"location": "global", "properties": props},
                          f"link private DNS zone {zone.spec.name} to virtual network {vnet.name}",
                          [zkey, self.ref(vnet.id)], source=zone))
        for rec in zone.records.values():
            if rec.source != "zone":
                continue  # written by a private endpoint's zone group, not by us
            props = record_properties(rec)
            if props is None:
                continue
            rtype = f"Microsoft.Network/privateDnsZones/{rec.type}"
            self.add(Step("recordSet", self.key("rec", f"{zone.zone_name}_{rec.type}_{rec.name}"),
                          f"{zone.id}/{rec.type}/{rec.name}", rtype, rec.name, zone.subscription, zone.resource_group,
                          None, {"properties": props},
                          f"add {rec.type} record {rec.name} to {zone.spec.name}", [zkey], source=zone))

    def endpoint(self, pe: PeR):
        conn = {"name": pe.name, "properties": {"privateLinkServiceId": pe.target_id, "groupIds": list(pe.spec.group_ids)}}
        props: dict = {"subnet": {"id": pe.subnet.id}}
        static = ip_configurations(pe)
        if static:
            props["ipConfigurations"] = static
        if pe.spec.manual_approval:
            props["manualPrivateLinkServiceConnections"] = [conn]
        else:
            props["privateLinkServiceConnections"] = [conn]
        deps = [self.rg_key(pe.subscription, pe.resource_group), self.ref(pe.subnet.vnet.id)]
        if pe.scope is not None:
            deps.append(self.ref(pe.scope.id))
        key = self.add(Step("privateEndpoint", self.key("pe", pe.name), pe.id, "Microsoft.Network/privateEndpoints", pe.name,
                            pe.subscription, pe.resource_group, pe.location, {"location": pe.location, "properties": props},
                            f"create private endpoint {pe.name} in {pe.subnet.vnet.name}/{pe.subnet.name} to "
                            f"{pe.target_id.rsplit('/', 1)[-1]} ({', '.join(pe.spec.group_ids)}"
                            f"{', manual approval' if pe.spec.manual_approval else ''})",
                            [d for d in dict.fromkeys(deps) if d], source=pe)).key
        if pe.spec.manual_approval and pe.scope is not None and pe.state in ("Approved", "Rejected"):
            # The scope owner's answer to a manual request. The connection's name is Azure's
            # (assigned when the endpoint is created), so the step finds it by endpoint id.
            self.add(Step("connectionApproval", self.key("approve", pe.name), f"{pe.scope.id}/privateEndpointConnections",
                          "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections", pe.name,
                          pe.scope.subscription, pe.scope.resource_group, None,
                          {"properties": {"privateLinkServiceConnectionState": {
                              "status": pe.state, "description": f"{pe.state} as planned"}}},
                          f"{'approve' if pe.state == 'Approved' else 'reject'} the connection of private endpoint "
                          f"{pe.name} on scope {pe.scope.name}", [key], source=pe))
        if pe.zones:
            configs = [{"name": z.zone_name.replace(".", "-"), "properties": {"privateDnsZoneId": z.id}} for z in pe.zones]
            self.add(Step("privateDnsZoneGroup", self.key("zg", pe.name), f"{pe.id}/privateDnsZoneGroups/{ZONE_GROUP_NAME}",
                          "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", ZONE_GROUP_NAME, pe.subscription,
                          pe.resource_group, None, {"properties": {"privateDnsZoneConfigs": configs}},
                          f"integrate private endpoint {pe.name} with private DNS zones "
                          + ", ".join(z.zone_name for z in pe.zones),
                          [key] + [self.ref(z.id) for z in pe.zones], source=pe))

    def cluster(self, cl: ClusterR):
        props: dict = {"agentPublicKeyCertificate": cl.spec.agent_public_key_certificate or "",
                       "privateLinkState": cl.spec.private_link_state}
        deps = [self.rg_key(cl.subscription, cl.resource_group)]
        if cl.site is not None:
            deps.append(self.ref(f"site:{cl.site.name}"))
        if cl.private_link and cl.scope is not None:
            props["privateLinkScopeResourceId"] = cl.scope.id
            deps.append(self.ref(cl.scope.id))
        if cl.spec.features:
            props["arcAgentryConfigurations"] = [{"feature": f, "settings": {}} for f in cl.spec.features]
        # Where the cluster runs is not an ARM property; tags carry it (the emulator reads them).
        body = {"location": cl.location, "identity": {"type": "SystemAssigned"}, "tags": cluster_tags(cl),
                "properties": props}
        pl = f"private link {cl.spec.private_link_state.lower()}"
        if "privateLinkScopeResourceId" in props:
            pl += f", scope {cl.scope.name}"
        key = self.add(Step("connectedCluster", self.key("cluster", cl.name), cl.id, "Microsoft.Kubernetes/connectedClusters",
                            cl.name, cl.subscription, cl.resource_group, cl.location, body,
                            f"connect cluster {cl.name} ({pl})", deps, source=cl)).key
        for ext in cl.spec.extensions:
            name = extension_name(ext)
            self.add(Step("extension", self.key("ext", f"{cl.name}_{name}"),
                          f"{cl.id}/providers/Microsoft.KubernetesConfiguration/extensions/{name}",
                          "Microsoft.KubernetesConfiguration/extensions", name, cl.subscription, cl.resource_group, None,
                          {"properties": {"extensionType": ext, "autoUpgradeMinorVersion": True}},
                          f"install extension {ext} on cluster {cl.name}", [key], source=cl))


def build_plan(ix: Index) -> Plan:
    """The ordered plan of a topology (an ``Index`` from ``arclink.model.loader.load``)."""
    return _Builder(ix).build()
