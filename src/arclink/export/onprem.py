"""What each site's on-premises DNS server needs, for both designs of the seed.

``forwarder``: conditional forwarders for the three public Arc zones (the "Public DNS zone
forwarders" column of Azure's private endpoint DNS table) to the DNS forwarder in Azure
the site can reach (a DNS private resolver inbound endpoint, a forwarder VM or a firewall
DNS proxy, from the topology's ``dnsForwarders``).

``manual``: the A records of the private endpoint's "DNS configuration" (its FQDNs and
addresses), written under their public names. We deliberately do not host whole zones
such as ``his.arc.azure.com``: only the listed names are answered locally and every
other name keeps resolving publicly, and no answer depends on the public CNAME into
``privatelink.*`` being fetched from the internet first.

Addresses in the configs are the modelled ones. ``Options.address_map`` replaces a
modelled server address by another host and port (to try a config against loopback
listeners), ``Options.listen`` the address the server listens on and ``Options.upstream``
where everything else goes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from arclink.model import catalogue as cat
from arclink.model.index import Index, PeR, SiteR
from arclink.model.resolve import site_reaches

DESIGNS = ("forwarder", "manual")
AUTO = "auto"  # each site its own design, read from the topology (``site_design``)
PUBLIC = "public"  # a site without private-link clusters: no Arc forwarders or records


class ExportError(Exception):
    """The topology cannot give what the export needs; ``str()`` says what and how to fix it."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int = 53

    def __str__(self) -> str:
        return self.host if self.port == 53 else f"{self.host}:{self.port}"


@dataclass
class Options:
    design: str = AUTO  # forwarder, manual, or auto
    listen: Server | None = None  # default: the site's DNS server address, port 53
    address_map: dict[str, Server] = field(default_factory=dict)  # modelled IP -> real server
    upstream: Server | None = None  # default: the site's own upstream ("internet" = recursion)
    workdir: str | None = None  # where engines keep pid files etc. when run from the output dir


@dataclass
class SiteDns:
    site: str
    design: str
    listen: Server | None
    clients: list[str]  # the networks allowed to query
    forwards: list[tuple[str, list[Server]]]  # (public zone, targets)
    records: list[tuple[str, str]]  # (fqdn, address)
    upstream: Server | None  # None: recurse from the root (internet)
    notes: list[str] = field(default_factory=list)

    @property
    def loopback_targets(self) -> bool:
        servers = [t for _, ts in self.forwards for t in ts] + ([self.upstream] if self.upstream else [])
        return any(ipaddress.ip_address(s.host).is_loopback for s in servers)


def _mapped(opts: Options, ip: str) -> Server:
    return opts.address_map.get(ip, Server(ip))


def reachable_endpoints(ix: Index, site: SiteR) -> list[PeR]:
    """Arc private endpoints the site can reach, those of its clusters' scopes first."""
    scopes = [c.scope for c in ix.clusters_in(site) if c.scope is not None]
    eps = [pe for pe in ix.endpoints.values() if pe.is_arc and pe.vnet is not None and site_reaches(site, pe.vnet)]
    return sorted(eps, key=lambda pe: 0 if pe.scope in scopes else 1)


def site_design(ix: Index, site: SiteR, requested: str) -> str:
    """The design a site's DNS export follows.

    A site that runs no private-link cluster gets no Arc entries (``PUBLIC``). Otherwise the
    requested design; ``auto`` reads it from the topology: ``manual`` when the site's DNS server
    hosts Arc names itself (records or zones), ``forwarder`` otherwise.
    """
    if requested not in DESIGNS + (AUTO,):
        raise ExportError(f"unknown DNS design '{requested}'; use one of: {', '.join(DESIGNS + (AUTO,))}.")
    if not any(c.private_link for c in ix.clusters_in(site)):
        return PUBLIC
    if requested != AUTO:
        return requested
    dns = site.spec.dns
    hosts_arc = dns is not None and (any(cat.arc_zone_for(r.name) for r in dns.records)
                                     or any(cat.arc_zone_for(z) for z in dns.zones))
    return "manual" if hosts_arc else "forwarder"


def site_dns(ix: Index, site: SiteR, opts: Options) -> SiteDns:
    design = site_design(ix, site, opts.design)
    dns = site.spec.dns
    listen = opts.listen or (Server(dns.address) if dns else None)
    out = SiteDns(site.name, design, listen, [str(n) for n in site.networks], [], [], None)
    if opts.upstream is not None:
        out.upstream = opts.upstream
    elif dns and dns.upstream != "internet":
        out.upstream = _mapped(opts, dns.upstream)
    if design == "forwarder":
        fwds = [f for f in ix.forwarders.values() if f.vnet is not None and site_reaches(site, f.vnet)]
        if fwds:
            targets = [str(f.ip) for f in fwds]
        else:
            targets = []
            for cf in (dns.conditional_forwarders if dns else []):
                if cf.zone.rstrip(".").lower() in cat.ARC_PUBLIC_ZONES:
                    targets += [t for t in cf.targets if t not in targets]
        if not targets:
            raise ExportError(f"site '{site.name}' reaches no DNS forwarder in Azure: add one under dnsForwarders "
                              "(for example a DNS private resolver inbound endpoint) in a virtual network the site "
                              "is connected to, or export with --design manual.")
        out.forwards = [(z.public_zone, [_mapped(opts, t) for t in targets]) for z in cat.ARC_ZONES]
        out.notes.append("forwards " + ", ".join(z.public_zone for z in cat.ARC_ZONES) + " to " + ", ".join(targets))
    elif design == "manual":
        eps = reachable_endpoints(ix, site)
        if not eps:
            raise ExportError(f"site '{site.name}' reaches no private endpoint of an Azure Arc Private Link Scope: "
                              "connect it to the endpoint's virtual network (VPN or ExpressRoute) first.")
        seen: set[str] = set()
        assigned: list[str] = []
        for pe in eps:
            fixed = {k.lower() for k in pe.spec.ip_addresses}
            for rec in pe.records:
                if rec.record.fqdn not in seen:
                    seen.add(rec.record.fqdn)
                    out.records.append((rec.record.fqdn, rec.address))
                    if rec.record.fqdn.lower() not in fixed:
                        assigned.append(rec.record.fqdn)
        out.notes.append(f"A records of private endpoint '{eps[0].name}'")
        if assigned:
            out.notes.append("Azure assigns the addresses of " + ", ".join(assigned) + " when it creates the endpoint "
                             "(the topology fixes none for them; these are the modelled ones): read them from the "
                             "endpoint's DNS configuration after deployment (az network private-endpoint show "
                             "--query customDnsConfigs) and correct them here")
    else:
        out.notes.append("no private-link cluster runs here: no Arc forwarders or records")
    # The site's other conditional forwarders (Azure Monitor's zones, its own domains) stay as they are.
    kept = [cf for cf in (dns.conditional_forwarders if dns else []) if cat.arc_zone_for(cf.zone) is None]
    for cf in kept:
        out.forwards.append((cf.zone.rstrip("."), [_mapped(opts, t) for t in cf.targets]))
    if kept:
        out.notes.append("keeps the site's conditional forwarders for " + ", ".join(cf.zone for cf in kept))
    return out


def sites_for(ix: Index, only: str | None) -> list[SiteR]:
    if only:
        site = ix.site(only)
        if site is None:
            names = ", ".join(s.name for s in ix.sites.values()) or "none"
            raise ExportError(f"site '{only}' is not in the topology (sites: {names}).")
        return [site]
    if not ix.sites:
        raise ExportError("the topology has no sites; on-premises DNS is exported per site (add one under 'sites').")
    return list(ix.sites.values())
