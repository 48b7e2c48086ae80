"""reach(): can a cluster's connection to an address get through, and is it admitted?

One pure function, used by the linter, ``explain`` and the gateway's admission.
The route (site -> VPN/ExpressRoute -> VNet, peering with gateway transit: ``model.transit``), the NSG of the private
endpoint's subnet, the site's firewall, then admission at the endpoint, with the
reason codes of design.md.

Choices: traffic to a private endpoint over VPN/ExpressRoute is not filtered by
the site's internet firewall (it is not internet-bound); the endpoint subnet's
NSG applies only when the subnet's ``privateEndpointNetworkPolicies`` enable it,
as in Azure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arclink.model import catalogue as cat
from arclink.model.index import ClusterR, Index, PeR, PeRecord, SiteR
from arclink.model.nsg import evaluate_nsg
from arclink.model.resolve import public_lookup, site_reaches
from arclink.model.transit import blocked_transit, site_route
from arclink.net import is_private as _is_private

# Reason codes (design.md, "Private endpoint gateway: admission").
ADMITTED = "Admitted"
REASONS = {
    "ClusterNotRegistered": "The client key is not the agentPublicKeyCertificate of any connected cluster.",
    "NoRouteToPrivateEndpoint": "There is no site-to-site VPN or ExpressRoute path from the cluster's site to the private endpoint's virtual network.",
    "BlockedByFirewall": "A firewall or network security group on the way drops the connection.",
    "PrivateEndpointConnectionNotApproved": "The private endpoint's connection to the Azure Arc Private Link Scope is not approved.",
    "ClusterNotAssociatedWithScope": "Every Kubernetes cluster that uses this DNS server now resolves the private endpoint IP addresses and must be associated with the Azure Arc Private Link Scope, or the connection will be refused.",
    "PrivateLinkNotEnabledForCluster": "The cluster names this scope but its privateLinkState is Disabled, so it may not use the private endpoint.",
    "PublicNetworkAccessDisabled": "The cluster's Azure Arc Private Link Scope has public network access disabled, and the connection arrived on the public endpoint.",
    "NotAnArcEndpoint": "The address is neither a private endpoint of an Azure Arc Private Link Scope nor a public Azure Arc endpoint.",
}


@dataclass
class Hop:
    what: str
    ok: bool
    detail: str


@dataclass
class Reach:
    address: str
    fqdn: str | None
    admitted: bool = False
    code: str = ADMITTED
    reason: str = ""
    path: str = ""  # private, public, none
    endpoint: str | None = None  # private endpoint name
    scope: str | None = None
    hops: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def refuse(self, code: str, detail: str | None = None) -> "Reach":
        self.admitted, self.code = False, code
        self.reason = REASONS[code] if detail is None else f"{REASONS[code]} {detail}"
        return self

    def to_dict(self) -> dict:
        return {"address": self.address, "fqdn": self.fqdn, "admitted": self.admitted, "code": self.code,
                "reason": self.reason, "path": self.path, "endpoint": self.endpoint, "scope": self.scope,
                "hops": [{"what": h.what, "ok": h.ok, "detail": h.detail} for h in self.hops],
                "warnings": list(self.warnings)}


def endpoint_at(index: Index, address: str) -> tuple[PeR, PeRecord] | None:
    """The private endpoint (and its record) that owns a private address."""
    return index.endpoint_at(address)


def is_public_arc_address(address: str, fqdn: str | None) -> bool:
    if fqdn is None:
        return False
    zone = cat.arc_zone_for(fqdn)
    if zone is None:
        return False
    name = fqdn.rstrip(".").lower()
    for _ in range(3):
        hit = public_lookup(name)
        if hit is None:
            return False
        if hit[0] == "A":
            return hit[1] == address
        name = hit[1]
    return False


def firewall_allows(site: SiteR | None, tag: str, inbound: bool = False) -> bool:
    """Does the site's firewall let TCP 443 to (or from) a service tag through?"""
    if site is None or site.spec.firewall is None:
        return True
    fw = site.spec.firewall
    if fw.allow_all:
        return True
    allowed = fw.inbound if inbound else fw.outbound
    return tag.lower() in {t.lower() for t in allowed}


def reach(index: Index, cluster: ClusterR | None, address: str, fqdn: str | None = None,
          src_address: str | None = None) -> Reach:
    """Decide one connection from ``cluster`` (None: an unknown client key) to ``address``."""
    r = Reach(address, fqdn)
    hit = endpoint_at(index, address)
    site = cluster.site if cluster else (index.locate(src_address) if src_address else None)
    site = site if isinstance(site, SiteR) else None
    src = src_address or (cluster.address if cluster else None)
    if hit is not None:
        pe, _rec = hit
        r.path, r.endpoint = "private", pe.name
        r.scope = pe.scope.name if pe.scope else None
        # route
        if site is None or not site_reaches(site, pe.vnet):
            where = f"site '{site.name}'" if site else "the client's network"
            gaps = blocked_transit(site, pe.vnet) if site else []
            why = "".join(f"; {kind} lands on '{v.name}', but " + " and ".join(m.describe() for m in missing)
                          for kind, v, missing in gaps)
            r.hops.append(Hop("route", False, f"no VPN/ExpressRoute path from {where} to '{pe.vnet.name}'{why}"))
            return r.refuse("NoRouteToPrivateEndpoint")
        route = site_route(site, pe.vnet)
        assert route is not None  # site_reaches said there is one
        r.hops.append(Hop("route", True, f"site '{site.name}' -> {route.describe()}"))
        # NSG on the endpoint's subnet
        subnet = pe.subnet
        if subnet.nsg is not None and subnet.spec.private_endpoint_network_policies in ("Enabled", "NetworkSecurityGroupEnabled"):
            verdict = evaluate_nsg(index, subnet.nsg, "Inbound", src or "0.0.0.0", address, 443, subnet.vnet)
            r.hops.append(Hop(f"NSG '{subnet.nsg.name}'", verdict.allowed, verdict.describe()))
            if not verdict.allowed:
                return r.refuse("BlockedByFirewall", f"NSG '{subnet.nsg.name}' rule '{verdict.rule}' denies TCP 443 inbound.")
        # approval
        if pe.state != "Approved":
            r.hops.append(Hop("private endpoint connection", False, f"'{pe.name}' is {pe.state}"))
            return r.refuse("PrivateEndpointConnectionNotApproved", f"'{pe.name}' is {pe.state}.")
        r.hops.append(Hop("private endpoint connection", True, f"'{pe.name}' is Approved"))
        if not pe.is_arc:
            return r.refuse("NotAnArcEndpoint")
        if cluster is None:
            return r.refuse("ClusterNotRegistered")
        # association
        assert pe.scope is not None  # an Arc endpoint always has its scope (build_index checks it)
        if cluster.scope is pe.scope:
            if not cluster.private_link:
                r.hops.append(Hop("admission", False, f"cluster names scope '{pe.scope.name}' with privateLinkState Disabled"))
                return r.refuse("PrivateLinkNotEnabledForCluster")
            r.hops.append(Hop("admission", True, f"cluster is associated with scope '{pe.scope.name}'"))
            r.admitted = True
            return r
        other = f"it is associated with '{cluster.scope.name}'" if cluster.scope else "it is not associated with any scope"
        r.hops.append(Hop("admission", False, f"endpoint belongs to scope '{pe.scope.name}'; {other}"))
        return r.refuse("ClusterNotAssociatedWithScope")

    if is_public_arc_address(address, fqdn) or (fqdn is None and not _is_private(address) and cluster is not None):
        r.path = "public"
        if site is not None and not firewall_allows(site, cat.TAG_ARC):
            r.hops.append(Hop("site firewall", False, f"TCP 443 to {cat.TAG_ARC} is not allowed"))
            return r.refuse("BlockedByFirewall", f"The firewall of site '{site.name}' does not allow TCP 443 to {cat.TAG_ARC}.")
        r.hops.append(Hop("internet", True, "public endpoint over the internet"))
        if cluster is None:
            return r.refuse("ClusterNotRegistered")
        if cluster.private_link and cluster.scope is not None:
            r.scope = cluster.scope.name
            if cluster.scope.spec.public_network_access == "Disabled":
                r.hops.append(Hop("admission", False, f"scope '{cluster.scope.name}' has public network access Disabled"))
                return r.refuse("PublicNetworkAccessDisabled")
            r.warnings.append(f"scope '{cluster.scope.name}' allows public network access: data may leave over public networks")
        r.hops.append(Hop("admission", True, "public endpoint accepts the cluster"))
        r.admitted = True
        return r
    if _is_private(address):
        r.path = "none"
        r.hops.append(Hop("route", False, f"{address} is no private endpoint of any Azure Arc Private Link Scope"))
        return r.refuse("NoRouteToPrivateEndpoint", f"Nothing listens on {address}.")
    r.path = "none"
    return r.refuse("NotAnArcEndpoint")
