"""build_index(): a topology document made into an Index, checked and filled as Azure would.

``build_index`` checks what a schema cannot (dangling references, duplicate
names, CIDRs, IPs, ARM ids), fills what Azure would fill (ARM ids, locations
from resource groups, private endpoint addresses, the A records a private DNS
zone group writes) and keeps lookups that resolve() and reach() need. What it
builds (the resolved resources and the ``Index``) lives in ``model.resolved``;
the names are re-exported here, where most callers look for them.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any, NoReturn

from arclink.model import catalogue as cat
from arclink.model import schema
from arclink.model.errors import TopologyError
from arclink.model.nsg import port_range_error
from arclink.model.resolved import (DEFAULT_LOCATION, DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION, ClusterR,
                                    ForwarderR, Index, IPAddress, IPNetwork, Near, NsgR, PeR, PeRecord, R, Res,
                                    Resources, ScopeR, SiteR, SubnetR, VNetR, ZoneR, ZRecord, arm_id, parse_arm_id,
                                    shown)

__all__ = ["DEFAULT_LOCATION", "DEFAULT_RESOURCE_GROUP", "DEFAULT_SUBSCRIPTION", "ClusterR", "ForwarderR", "Index",
           "NsgR", "PeR", "PeRecord", "Res", "Resources", "ScopeR", "SiteR", "SubnetR", "VNetR", "ZRecord", "ZoneR", "arm_id",
           "build_index", "endpoint_service_region", "parse_arm_id", "shown"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# --- building --------------------------------------------------------------------------------


class _Builder:
    def __init__(self, topo: schema.Topology):
        self.t = topo
        self.ix = Index(topo)
        self._placements: dict[tuple[str | None, str | None, str | None], tuple[str, str, str]] = {}

    def fail(self, path: str, message: str, code: str = "InvalidTopology") -> NoReturn:
        raise TopologyError(message, path=path, code=code)

    # names -----------------------------------------------------------------------------------
    def unique(self, table: dict[str, Any], key: str, path: str, what: str, obj: object) -> None:
        k = key.lower()
        if k in table:
            self.fail(path + ".name", f"duplicate {what} name '{key}'; names must be unique (ARM compares them without case).",
                      "DuplicateName")
        table[k] = obj

    def placement(self, spec: object, path: str) -> tuple[str, str, str]:
        # The answer depends only on these three values: memoised, as 100k clusters share a handful.
        key = (getattr(spec, "subscription", None), getattr(spec, "resource_group", None), getattr(spec, "location", None))
        hit = self._placements.get(key)
        if hit is None:
            hit = self._placements[key] = self._placement(spec, path)
        return hit

    def _placement(self, spec: object, path: str) -> tuple[str, str, str]:
        d = self.t.defaults
        sub = getattr(spec, "subscription", None) or self.ix.default_subscription
        if sub.lower() not in self.ix.subscriptions and self.t.subscriptions:
            self.fail(path + ".subscription", f"subscription '{sub}' is not declared under 'subscriptions'.",
                      "DanglingReference")
        rg = getattr(spec, "resource_group", None) or d.resource_group or self.ix.default_resource_group
        rg_spec = self.ix.resource_groups.get((sub.lower(), rg.lower()))
        if self.t.resource_groups and rg_spec is None and getattr(spec, "resource_group", None):
            self.fail(path + ".resourceGroup", f"resource group '{rg}' is not declared under 'resourceGroups'.",
                      "DanglingReference")
        loc = getattr(spec, "location", None) or (rg_spec.location if rg_spec else None) or d.location \
            or self.ix.default_location
        return sub, rg, cat.normalize_location(loc)

    def net(self, value: str, path: str) -> IPNetwork:
        try:
            return ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            hint = " (host bits are set; use the network address)" if "host bits" in str(exc) else ""
            self.fail(path, f"'{value}' is not a valid CIDR prefix{hint}.", "InvalidCidr")

    def ip(self, value: str, path: str) -> IPAddress:
        try:
            return ipaddress.ip_address(value)
        except ValueError:
            self.fail(path, f"'{value}' is not a valid IP address.", "InvalidAddress")

    def add(self, table: Resources[Any], r: Res, what: str) -> None:
        """``r`` into its table; a second resource of the same id (name, resource group, subscription) is an error."""
        if r.id.lower() in table.keys():
            self.fail(r.path + ".name", f"duplicate {what} name '{r.name}'; names must be unique (ARM compares them "
                                        "without case).", "DuplicateName")
        table.add(r)
        self.ix.by_id[r.id.lower()] = r

    def find(self, table: Resources[R], ref: str, path: str, near: Near | None, missing: str) -> R:
        """What a reference means: an ARM id; a name in the referring resource's own resource group
        (``near``); a name unique in the topology. Anything else is a dangling or an ambiguous reference."""
        hits = table.candidates(ref, near)
        if len(hits) == 1:
            return hits[0]
        if not hits:
            self.fail(path, missing, "DanglingReference")
        ids = [h.id for h in hits]
        self.fail(path, f"'{ref}' is ambiguous: {', '.join(ids[:-1])} or {ids[-1]}; use the ARM id.",
                  "AmbiguousReference")

    def vnet_ref(self, ref: str, path: str, near: Near | None) -> VNetR:
        return self.find(self.ix.vnets, ref, path, near, f"virtual network '{ref}' does not exist.")

    def qualify_shared_names(self) -> None:
        """Resources that share a name are told apart in messages by their resource group (see ``shown``)."""
        ix = self.ix
        for table in (ix.nsgs, ix.vnets, ix.scopes, ix.endpoints, ix.zones, ix.clusters):
            for same in table.shared_names():
                by_rg = len({r.resource_group.lower() for r in same}) == len(same)
                for r in same:
                    r.qualifier = r.resource_group if by_rg else f"{r.subscription}/{r.resource_group}"

    def check_arm_id(self, value: str, path: str) -> dict[str, str]:
        parts = parse_arm_id(value)
        if not parts:
            self.fail(path, f"'{value}' is not a valid ARM resource id "
                            "(/subscriptions/<id>/resourceGroups/<rg>/providers/<namespace>/<type>/<name>).", "InvalidResourceId")
        return parts

    # build -----------------------------------------------------------------------------------
    def build(self) -> Index:
        t, ix = self.t, self.ix
        for i, s in enumerate(t.subscriptions):
            p = f"$.subscriptions[{i}]"
            if not _GUID.fullmatch(s.id):
                self.fail(p + ".id", f"'{s.id}' is not a subscription id (a GUID).", "InvalidSubscriptionId")
            if s.id.lower() in ix.subscriptions:
                self.fail(p + ".id", f"duplicate subscription '{s.id}'.", "DuplicateName")
            ix.subscriptions[s.id.lower()] = s
        if t.defaults.subscription:
            ix.default_subscription = t.defaults.subscription
        elif t.subscriptions:
            ix.default_subscription = t.subscriptions[0].id
        if t.defaults.subscription and t.subscriptions and t.defaults.subscription.lower() not in ix.subscriptions:
            self.fail("$.defaults.subscription", f"subscription '{t.defaults.subscription}' is not declared under 'subscriptions'.",
                      "DanglingReference")
        if not t.subscriptions:
            ix.subscriptions[ix.default_subscription.lower()] = schema.Subscription(id=ix.default_subscription)
        for i, rg in enumerate(t.resource_groups):
            p = f"$.resourceGroups[{i}]"
            sub = (rg.subscription or ix.default_subscription).lower()
            if sub not in ix.subscriptions:
                self.fail(p + ".subscription", f"subscription '{rg.subscription}' is not declared under 'subscriptions'.",
                          "DanglingReference")
            if (sub, rg.name.lower()) in ix.resource_groups:
                self.fail(p + ".name", f"duplicate resource group name '{rg.name}'.", "DuplicateName")
            ix.resource_groups[(sub, rg.name.lower())] = rg
        if t.defaults.resource_group:
            ix.default_resource_group = t.defaults.resource_group
        elif t.resource_groups:
            ix.default_resource_group = t.resource_groups[0].name
        if t.defaults.location:
            ix.default_location = cat.normalize_location(t.defaults.location)

        self.build_nsgs()
        self.build_vnets()
        self.build_scopes()
        self.build_zones()
        self.build_forwarders()
        self.build_endpoints()
        self.build_sites()
        self.build_clusters()
        self.qualify_shared_names()
        return ix

    def build_nsgs(self) -> None:
        for i, n in enumerate(self.t.network_security_groups):
            p = f"$.networkSecurityGroups[{i}]"
            sub, rg, loc = self.placement(n, p)
            r = NsgR(n, p, arm_id(sub, rg, "Microsoft.Network/networkSecurityGroups", n.name), sub, rg, loc)
            self.add(self.ix.nsgs, r, "network security group")
            seen: set[tuple[str, int]] = set()
            for j, rule in enumerate(n.security_rules):
                rp = f"{p}.securityRules[{j}]"
                if not 100 <= rule.priority <= 4096:
                    self.fail(rp + ".priority", f"priority {rule.priority} is outside 100-4096.", "InvalidPriority")
                for camel, ports in (("sourcePortRange", rule.source_port_range),
                                     ("destinationPortRange", rule.destination_port_range),
                                     *((f"sourcePortRanges[{k}]", x) for k, x in enumerate(rule.source_port_ranges)),
                                     *((f"destinationPortRanges[{k}]", x)
                                       for k, x in enumerate(rule.destination_port_ranges))):
                    problem = port_range_error(ports)
                    if problem:
                        self.fail(f"{rp}.{camel}", problem, "InvalidPortRange")
                key = (rule.direction, rule.priority)
                if key in seen:
                    self.fail(rp + ".priority", f"priority {rule.priority} is used twice for {rule.direction} rules; "
                                                "each rule in a direction needs its own priority.", "DuplicatePriority")
                seen.add(key)

    def build_vnets(self) -> None:
        ix = self.ix
        for i, v in enumerate(self.t.virtual_networks):
            p = f"$.virtualNetworks[{i}]"
            sub, rg, loc = self.placement(v, p)
            r = VNetR(v, p, arm_id(sub, rg, "Microsoft.Network/virtualNetworks", v.name), sub, rg, loc)
            r.networks = [self.net(a, f"{p}.addressSpace[{k}]") for k, a in enumerate(v.address_space)]
            if not r.networks:
                self.fail(p + ".addressSpace", "a virtual network needs at least one address prefix.", "InvalidCidr")
            for j, s in enumerate(v.subnets):
                sp = f"{p}.subnets[{j}]"
                net = self.net(s.address_prefix, sp + ".addressPrefix")
                if not any(net.subnet_of(n) for n in r.networks if n.version == net.version):  # type: ignore[arg-type]
                    self.fail(sp + ".addressPrefix", f"subnet {s.address_prefix} is outside the address space of "
                                                     f"virtual network '{v.name}'.", "InvalidCidr")
                sr = SubnetR(s, sp, f"{r.id}/subnets/{s.name}", r, net)
                if s.network_security_group:
                    sr.nsg = self.find(ix.nsgs, s.network_security_group, sp + ".networkSecurityGroup", r.near,
                                       f"network security group '{s.network_security_group}' does not exist.")
                self.unique(r.subnets, s.name, sp, f"subnet in '{v.name}'", sr)
                ix.by_id[sr.id.lower()] = sr
            for k, dns in enumerate(v.dns_servers):
                self.ip(dns, f"{p}.dnsServers[{k}]")
            self.add(ix.vnets, r, "virtual network")
        for r in ix.vnets.values():
            for k, entry in enumerate(r.spec.peerings):
                peer = entry if isinstance(entry, str) else entry.virtual_network
                other = self.find(ix.vnets, peer, f"{r.path}.peerings[{k}]", r.near,
                                  f"peered virtual network '{peer}' does not exist.")
                if not isinstance(entry, str):
                    r.peering_sides[other.id.lower()] = entry
                if other not in r.peers:
                    r.peers.append(other)
                if r not in other.peers:
                    other.peers.append(r)

    def build_scopes(self) -> None:
        for i, s in enumerate(self.t.private_link_scopes):
            p = f"$.privateLinkScopes[{i}]"
            sub, rg, loc = self.placement(s, p)
            r = ScopeR(s, p, arm_id(sub, rg, cat.ARC_RESOURCE_TYPE, s.name), sub, rg, loc)
            r.guid = s.private_link_scope_id or str(uuid.uuid5(uuid.NAMESPACE_URL, r.id.lower()))
            self.add(self.ix.scopes, r, "private link scope")

    def build_zones(self) -> None:
        for i, z in enumerate(self.t.private_dns_zones):
            p = f"$.privateDnsZones[{i}]"
            if z.name.count(".") < 1:
                self.fail(p + ".name", f"zone name '{z.name}' needs at least two labels.", "InvalidZoneName")
            sub, rg, _ = self.placement(z, p)
            r = ZoneR(z, p, arm_id(sub, rg, "Microsoft.Network/privateDnsZones", z.name), sub, rg, "global")
            self.add(self.ix.zones, r, "private DNS zone")
            seen_links = set()
            for j, link in enumerate(z.virtual_network_links):
                vn = self.vnet_ref(link.virtual_network, f"{p}.virtualNetworkLinks[{j}].virtualNetwork", r.near)
                if vn.id in seen_links:
                    self.fail(f"{p}.virtualNetworkLinks[{j}].virtualNetwork",
                              f"zone '{z.name}' is linked to '{vn.name}' twice.", "DuplicateName")
                seen_links.add(vn.id)
                r.links.append((vn, link))
                vn.zone_links.append((r, link))
            for j, rec in enumerate(z.records):
                rp = f"{p}.records[{j}]"
                addresses = list(rec.addresses) + [a.ipv6_address for a in rec.aaaa_records]
                for k, a in enumerate(addresses):
                    ip = self.ip(a, f"{rp}.addresses[{k}]")
                    if rec.type in ("A", "AAAA") and ip.version != (4 if rec.type == "A" else 6):
                        self.fail(f"{rp}.addresses[{k}]", f"'{a}' is not an IPv{4 if rec.type == 'A' else 6} address, "
                                                          f"so it cannot be in a {rec.type} record.", "InvalidAddress")
                if rec.type == "SOA" and rec.name != "@":
                    self.fail(rp + ".name", "a zone has one SOA record set, '@'.", "InvalidRecordSet")
                cname = rec.cname_record.cname if rec.cname_record else rec.cname
                texts = [" ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in t.value)
                         for t in rec.txt_records]
                r.put(ZRecord(rec.name.lower(), rec.type, rec.ttl, addresses, cname, rp, "zone", texts,
                              _soa_text(rec)))

    def build_forwarders(self) -> None:
        for i, f in enumerate(self.t.dns_forwarders):
            p = f"$.dnsForwarders[{i}]"
            sub, rg, loc = self.placement(f, p)
            vn = self.vnet_ref(f.virtual_network, p + ".virtualNetwork", (sub.lower(), rg.lower()))
            ip = self.ip(f.ip_address, p + ".ipAddress")
            if not vn.contains(ip):
                self.fail(p + ".ipAddress", f"{f.ip_address} is outside virtual network '{vn.name}'.", "InvalidAddress")
            rtype = "Microsoft.Network/dnsResolvers" if f.kind == "privateResolverInbound" else \
                "Microsoft.Network/azureFirewalls" if f.kind == "firewallDnsProxy" else "Microsoft.Compute/virtualMachines"
            r = ForwarderR(f, p, arm_id(sub, rg, rtype, f.name), sub, rg, loc, vn, ip)
            self.unique(self.ix.forwarders, f.name, p, "DNS forwarder", r)
            self.ix.forwarders_by_ip[str(ip)] = r
            vn.forwarders.append(r)
            for s in vn.subnets.values():
                if ip in s.network:
                    s.taken.add(ip)

    def build_endpoints(self) -> None:
        ix = self.ix
        for i, e in enumerate(self.t.private_endpoints):
            p = f"$.privateEndpoints[{i}]"
            sub, rg, loc = self.placement(e, p)
            near = (sub.lower(), rg.lower())
            # subnet
            subnet: object
            if e.subnet.startswith("/"):
                self.check_arm_id(e.subnet, p + ".subnet")
                subnet = ix.by_id.get(e.subnet.lower())
            else:
                vname, _, sname = e.subnet.partition("/")
                vn = self.find(ix.vnets, vname, p + ".subnet", near, "") if ix.vnets.candidates(vname, near) else None
                subnet = vn.subnets.get(sname.lower()) if vn else None
            if not isinstance(subnet, SubnetR):
                self.fail(p + ".subnet", f"subnet '{e.subnet}' does not exist (write it as 'vnet/subnet' or a subnet id).",
                          "DanglingReference")
            r = PeR(e, p, arm_id(sub, rg, "Microsoft.Network/privateEndpoints", e.name), sub, rg, loc, subnet)
            # target
            target = e.private_link_service_id
            if target.startswith("/"):
                parts = self.check_arm_id(target, p + ".privateLinkServiceId")
                r.target_id = target
                r.target_type = f"{parts['ns']}/{parts['type']}"
                if r.is_arc:
                    r.scope = ix.scope(target)
                    if r.scope is None:
                        self.fail(p + ".privateLinkServiceId", f"private link scope '{target}' does not exist in this "
                                                               "topology.", "DanglingReference")
            else:
                r.scope = self.find(ix.scopes, target, p + ".privateLinkServiceId", near,
                                    f"private link scope '{target}' does not exist.")
                r.target_id, r.target_type = r.scope.id, cat.ARC_RESOURCE_TYPE
            if r.scope is not None:
                r.scope.endpoints.append(r)
            r.state = e.connection_state or ("Pending" if e.manual_approval else "Approved")
            # addresses: one per FQDN of the DNS configuration, from the subnet's pool
            if r.is_arc:
                for rec in cat.arc_records(endpoint_service_region(r)):
                    fixed = e.ip_addresses.get(rec.fqdn)
                    if fixed:
                        ip = self.ip(fixed, f"{p}.ipAddresses")
                        if ip not in r.subnet.network:
                            self.fail(f"{p}.ipAddresses", f"{fixed} is outside subnet '{r.subnet.name}'.", "InvalidAddress")
                    else:
                        free = _allocate(r.subnet)
                        if free is None:
                            self.fail(p + ".subnet", f"subnet '{r.subnet.name}' has no free address left.", "SubnetFull")
                        ip = free
                    r.subnet.taken.add(ip)
                    r.records.append(PeRecord(rec, str(ip)))
            # zone group: the "Integrate with private DNS zone: Yes" A records
            for k, zname in enumerate(e.private_dns_zone_group or []):
                zone = self.find(ix.zones, zname.rstrip("."), f"{p}.privateDnsZoneGroup[{k}]", near,
                                 f"private DNS zone '{zname}' does not exist.")
                r.zones.append(zone)
                for pr in r.records:
                    if pr.record.zone.private_zone == zone.zone_name:
                        zone.put(ZRecord(pr.record.label, "A", 10, [pr.address], None, p, f"zoneGroup:{e.name}"))
            self.add(ix.endpoints, r, "private endpoint")
            r.subnet.vnet.endpoints.append(r)

    def build_sites(self) -> None:
        ix = self.ix
        for i, s in enumerate(self.t.sites):
            p = f"$.sites[{i}]"
            nets = [self.net(a, f"{p}.addressSpace[{k}]") for k, a in enumerate(s.address_space)]
            conns: list[tuple[str, VNetR]] = []
            for k, c in enumerate(s.connections):
                conns.append((c.type, self.vnet_ref(c.virtual_network, f"{p}.connections[{k}].virtualNetwork", None)))
            if s.dns:
                self.ip(s.dns.address, p + ".dns.address")
                for k, cf in enumerate(s.dns.conditional_forwarders):
                    for m, tgt in enumerate(cf.targets):
                        self.ip(tgt, f"{p}.dns.conditionalForwarders[{k}].targets[{m}]")
                for k, rec in enumerate(s.dns.records):
                    for m, a in enumerate(rec.addresses):
                        self.ip(a, f"{p}.dns.records[{k}].addresses[{m}]")
                if s.dns.upstream != "internet":
                    self.ip(s.dns.upstream, p + ".dns.upstream")
            r = SiteR(s, p, nets, conns)
            self.unique(ix.sites, s.name, p, "site", r)

    def build_clusters(self) -> None:
        state = ClusterPlacement()
        for i, c in enumerate(self.t.clusters):
            self.add_cluster(i, c, state)
        self.ix._auto_counts = state.per_site  # where the next filled-in address of each site starts (cluster_patch)

    def join(self, holder: SiteR | ScopeR, r: ClusterR) -> None:
        """``r`` at the end of its site's or scope's cluster list (``model.cluster_patch`` keeps a version's own)."""
        self.ix._clusters_of.setdefault(id(holder), []).append(r)

    def add_cluster(self, i: int, c: schema.Cluster, state: ClusterPlacement, auto_index: int | None = None) -> ClusterR:
        """Cluster ``i`` of the topology into the index (the live model adds one at a time: ``auto_index``
        is then its place among its site's clusters whose address is filled in)."""
        ix = self.ix
        p = f"$.clusters[{i}]"
        sub, rg, loc = self.placement(c, p)
        ctype = "Microsoft.Kubernetes/connectedClusters"
        r = ClusterR(c, p, f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ctype}/{c.name}", sub, rg, loc)
        site = None
        if c.site:
            site = r.site = ix.sites.get(c.site.lower())
            if site is None:
                self.fail(p + ".site", f"site '{c.site}' does not exist.", "DanglingReference")
            self.join(site, r)
        if c.address:
            ip = self.ip(c.address, p + ".address")
            if site and not site.contains(ip):
                self.fail(p + ".address", f"{c.address} is outside the address space of site '{site.name}'.",
                          "InvalidAddress")
            r.address = c.address
        elif site and site.networks:
            name = site.spec.name
            n = state.per_site.get(name, 0) if auto_index is None else auto_index
            state.per_site[name] = n + 1
            r.auto_place = n
            base = state.bases.get(name)
            if base is None:
                net = site.networks[0]
                base = state.bases[name] = (int(net.network_address), max(1, net.num_addresses - 12), net.version == 4)
            x = base[0] + 10 + n % base[1]
            # Formatting the integer directly: ipaddress objects cost a few microseconds each.
            r.address = (f"{x >> 24 & 255}.{x >> 16 & 255}.{x >> 8 & 255}.{x & 255}" if base[2]
                         else str(ipaddress.IPv6Address(x)))
        ref = c.private_link_scope_resource_id
        if ref:
            key = (ref, sub, rg)
            scope = state.scopes.get(key)
            if scope is None:
                scope = state.scopes[key] = self.cluster_scope(ref, p, (sub.lower(), rg.lower()))
            r.scope = scope
            self.join(scope, r)
        k = r.id.lower()
        if k in ix.by_id:
            self.add(ix.clusters, r, "cluster")
        ix.clusters.add(r)
        ix.by_id[k] = r
        return r

    def cluster_scope(self, ref: str, p: str, near: Near) -> ScopeR:
        if ref.startswith("/"):
            parts = self.check_arm_id(ref, p + ".privateLinkScopeResourceId")
            if f"{parts['ns']}/{parts['type']}".lower() != cat.ARC_RESOURCE_TYPE.lower():
                self.fail(p + ".privateLinkScopeResourceId",
                          f"'{ref}' is not a {cat.ARC_RESOURCE_TYPE} id.", "InvalidResourceId")
        return self.find(self.ix.scopes, ref, p + ".privateLinkScopeResourceId", near,
                         f"private link scope '{ref}' does not exist.")


class ClusterPlacement:
    """What placing clusters one after another keeps: addresses given per site so far, each site's first
    address, and the scopes references were checked against (100k clusters share a handful)."""

    def __init__(self) -> None:
        self.per_site: dict[str, int] = {}
        self.bases: dict[str, tuple] = {}  # site name -> (first address as int, usable count, IPv4?)
        self.scopes: dict[tuple[str, str, str], ScopeR] = {}  # (reference as written, sub, rg) -> scope


def _soa_text(rec: schema.RecordSet) -> str | None:
    if rec.type != "SOA":
        return None
    soa = rec.soa_record or schema.SoaRecord()
    return (f"{soa.host.rstrip('.')}. {soa.email.rstrip('.')}. {soa.serial_number} {soa.refresh_time} "
            f"{soa.retry_time} {soa.expire_time} {soa.minimum_ttl}")


def endpoint_service_region(pe: PeR) -> str:
    """The region whose Arc names a private endpoint's DNS configuration carries: its scope's.

    The endpoint (and its VNet) may be in another region than the scope (the seed allows it,
    APL006 warns); the regional names (``<short>.his``, ``<region>-gas``, ``<region>.dp``) are
    those of the Arc service the scope and its clusters live in, which is the scope's region.
    """
    return pe.scope.location if pe.scope is not None else pe.location


def _allocate(subnet: SubnetR) -> IPAddress | None:
    # Azure keeps the first four addresses and the last one of every subnet.
    net = subnet.network
    for k in range(4, net.num_addresses - 1):
        ip = net.network_address + k
        if ip not in subnet.taken:
            return ip
    return None


def build_index(topo: schema.Topology) -> Index:
    return _Builder(topo).build()
