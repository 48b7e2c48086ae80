"""resolve(): how a name resolves from a place, as the DNS servers on the way would answer.

One pure function, used by the linter, ``explain``, the DNS server and the
doctor's expectations. The chain it follows is Azure's and on-premises DNS's:

    site DNS server -> manual zones/records -> conditional forwarders -> upstream
    forwarder in Azure (resolver inbound endpoint, VM, firewall DNS proxy)
        -> Azure DNS (168.63.129.16) of its VNet: private zones linked to that VNet
    public DNS: <label>.<zone> CNAME <label>.privatelink.<zone>, then a public A

Choices where the behaviour is not documented: an on-premises server whose
upstream is ``internet`` recurses itself, so the CNAME target of a public
answer goes through its own conditional forwarders again; one that forwards to
a public resolver accepts that resolver's whole chain.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from arclink.model import catalogue as cat
from arclink.model.index import ForwarderR, Index, SiteR, VNetR, ZoneR
from arclink.model.steps import FORWARDER_STEP, Failure, Step, StepKind
from arclink.model.transit import site_route
from arclink.model.resolved import shown

PUBLIC_TTL = 60
MAX_CHAIN = 8


@dataclass
class Resolution:
    name: str
    qtype: str
    rcode: str = "NOERROR"  # NOERROR, NXDOMAIN, SERVFAIL
    answers: list[tuple[str, str, int, str]] = field(default_factory=list)  # (owner, type, ttl, data)
    steps: list[Step] = field(default_factory=list)
    first_server: str | None = None  # the DNS server the client asked
    forwarder: str | None = None  # the forwarder in Azure the chain went through, if any
    zone_vnet: str | None = None  # the VNet whose private zone links decided, if any
    source: str = "none"  # private-zone, public, manual, none
    authoritative_zone: str | None = None  # the zone an NXDOMAIN/NODATA came from

    @property
    def addresses(self) -> list[str]:
        return [a[3] for a in self.answers if a[1] in ("A", "AAAA")]

    @property
    def private(self) -> bool:
        addrs = self.addresses
        return bool(addrs) and all(cat.is_private(a) for a in addrs)

    @property
    def failure(self) -> Failure | None:
        """How the resolution ended, if it failed: the failure of its last step."""
        return self.steps[-1].failure if self.steps else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "type": self.qtype, "rcode": self.rcode,
            "answers": [{"name": n, "type": t, "ttl": ttl, "data": d} for n, t, ttl, d in self.answers],
            "addresses": self.addresses, "private": self.private, "source": self.source,
            "firstServer": self.first_server, "forwarder": self.forwarder, "zoneVnet": self.zone_vnet,
            "steps": [{"server": s.server, "action": s.action} for s in self.steps],
        }


@dataclass(frozen=True)
class View:
    """Where a query comes from: a site's machines, a VNet's machines, or the internet."""

    kind: str  # site, vnet, internet
    name: str = ""
    address: str | None = None
    ref: str = ""  # a VNet's ARM id: two VNets may share a name in different resource groups

    @property
    def key(self) -> str:
        return f"{self.kind}:{(self.ref or self.name).lower()}"

    def describe(self) -> str:
        return {"site": f"site '{self.name}'", "vnet": f"virtual network '{self.name}'"}.get(self.kind, "the internet")


INTERNET = View("internet")


def view_for(index: Index, source: str) -> View:
    """A site name, a VNet name or an address -> the view its queries get."""
    site = index.site(source)
    if site is not None:
        return View("site", site.name)
    vnet = index.vnet(source)
    if vnet is not None:
        return View("vnet", vnet.name, ref=vnet.id)
    same = index.vnets.named(source)
    if len(same) > 1:
        ids = [v.id for v in same]
        raise LookupError(f"'{source}' is ambiguous: {', '.join(ids[:-1])} or {ids[-1]}; use the ARM id.")
    try:
        ipaddress.ip_address(source)
    except ValueError:
        raise LookupError(f"'{source}' is not a site, a virtual network or an IP address of this topology.") from None
    owner = index.locate(source)
    if isinstance(owner, SiteR):
        return View("site", owner.name, source)
    if isinstance(owner, VNetR):
        return View("vnet", owner.name, source, owner.id)
    return View("internet", "", source)


def resolve(index: Index, view: View, name: str, qtype: str = "A") -> Resolution:
    res = Resolution(name.rstrip(".").lower(), qtype.upper())
    r = _Resolver(index, res)
    if view.kind == "site":
        site = index.site(view.name)
        if site is None:
            raise LookupError(f"'{view.name}' is not a site of this topology.")
        r.site(site, res.name)
    elif view.kind == "vnet":
        vnet = index.vnet(view.ref or view.name)
        if vnet is None:
            raise LookupError(f"'{view.name}' is not a virtual network of this topology.")
        r.vnet(vnet, res.name)
    else:
        res.first_server = "public resolver"
        r.public(res.name)
    return res


# --- public DNS --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _public_names() -> dict[str, str]:
    """Every public name we model -> what it is: 'arc' (CNAME into privatelink) or 'a'."""
    names: dict[str, str] = {}
    for loc in cat.REGIONS:
        for rec in cat.arc_records(loc):
            names[rec.fqdn] = "arc"
            names[rec.private_fqdn] = "a"
        names[cat.ats_name(loc)] = "a"
        for ep in cat.public_endpoints(loc):
            names[ep.name] = "a"
        for n in cat.CLUSTER_CONNECT_ENDPOINTS:
            names[n.format(loc=loc)] = "a"
    return names


def public_lookup(name: str) -> tuple[str, str] | None:
    """The public answer for one name: ("CNAME", target) or ("A", address), None for NXDOMAIN."""
    kind = _public_names().get(name)
    if kind is None:
        return None
    if kind == "arc":
        zone = cat.arc_zone_for(name)
        assert zone is not None  # every "arc" name lies in an Arc zone
        label = name[: -len(zone.public_zone)].rstrip(".")
        return ("CNAME", f"{label}.{zone.private_zone}" if label else zone.private_zone)
    return ("A", cat.public_address(name))


# --- the resolver ---------------------------------------------------------------------------


Follow = Callable[[str], None]


class _Resolver:
    def __init__(self, index: Index, res: Resolution):
        self.ix = index
        self.res = res
        self.hops = 0

    def step(self, server: str, action: str, kind: StepKind, target: str | None = None,
             failure: Failure | None = None) -> None:
        self.res.steps.append(Step(server, action, kind, target, failure))

    def fail(self, server: str, why: str, kind: StepKind, target: str | None = None,
             failure: Failure | None = None, rcode: str = "SERVFAIL") -> None:
        self.step(server, why, kind, target, Failure.NXDOMAIN if rcode == "NXDOMAIN" else failure)
        self.res.rcode = rcode

    def add(self, owner: str, rtype: str, ttl: int, data: str) -> None:
        self.res.answers.append((owner, rtype, ttl, data))

    def _loop_guard(self) -> bool:
        self.hops += 1
        if self.hops > MAX_CHAIN:
            self.fail("resolver", "gave up: the CNAME chain is too long or loops", StepKind.CHAIN_LIMIT,
                      failure=Failure.LOOP)
            return True
        return False

    # public ------------------------------------------------------------------------------------
    def public(self, name: str, follow: Follow | None = None, server: str = "public DNS",
               kind: StepKind = StepKind.PUBLIC_DNS) -> None:
        """Public DNS; ``follow`` continues a CNAME (default: stay in public DNS)."""
        if self._loop_guard():
            return
        if follow is None:
            follow = lambda n: self.public(n, None, server, kind)  # noqa: E731
        hit = public_lookup(name)
        if hit is None:
            self.fail(server, f"{name}: no such name (NXDOMAIN)", kind, rcode="NXDOMAIN")
            return
        rtype, data = hit
        if rtype == "CNAME":
            self.step(server, f"{name} is a CNAME to {data}", kind)
            self.add(name, "CNAME", PUBLIC_TTL, data)
            follow(data)
            return
        if self.res.qtype in ("A", "ANY"):
            self.add(name, "A", PUBLIC_TTL, data)
        self.res.source = "public"
        self.step(server, f"{name} A {data} (public)", kind)

    # Azure DNS ----------------------------------------------------------------------------------
    def azure(self, vnet: VNetR, name: str) -> None:
        """168.63.129.16 as seen from ``vnet``: its linked private zones, then public DNS."""
        if self._loop_guard():
            return
        server = f"Azure DNS ({cat.AZURE_DNS_IP}) for {shown(vnet)}"
        best: tuple[ZoneR, Any] | None = None
        for zone, link in vnet.zone_links:
            zn = zone.zone_name
            if _in_zone(name, zn) and (best is None or len(zn) > len(best[0].zone_name)):
                best = (zone, link)
        if best is None:
            self.public(name, follow=lambda n: self.azure(vnet, n), server=server + " -> public DNS")
            return
        zone, link = best
        rel = "@" if name == zone.zone_name else name[: -len(zone.zone_name) - 1]
        self.res.zone_vnet = vnet.name
        where = f"private zone {zone.zone_name} (linked to {shown(vnet)})"
        qtype = self.res.qtype
        rec = zone.records.get((rel, "CNAME"))
        if rec and rec.cname and qtype != "CNAME":
            target = rec.cname.rstrip(".").lower()
            self.step(server, f"{where}: {name} CNAME {target}", StepKind.PRIVATE_ZONE, zone.id)
            self.add(name, "CNAME", rec.ttl, target)
            self.azure(vnet, target)  # within the zone, into another private zone, or out to public DNS
            return
        data = zone_data(zone, rel, qtype)
        if data:
            for rtype, ttl, text in data:
                self.add(name, rtype, ttl, text)
            if qtype not in ("A", "ANY"):
                self.res.authoritative_zone = zone.zone_name
            self.res.source = "private-zone"
            listed = ", ".join(text for _, _, text in data)
            self.step(server, f"{where}: {rel} {' '.join(dict.fromkeys(t for t, _, _ in data))} {listed}",
                      StepKind.PRIVATE_ZONE, zone.id)
            return
        if rel == "@" or rel in zone.names:
            # The name exists (a zone's apex always has its SOA; an empty or other-type record set still
            # makes the name): NOERROR with no data, which NxDomainRedirect does not redirect.
            have = zone.records.get((rel, qtype if qtype != "ANY" else "A"))
            what = f"an empty {have.type} record" if have is not None else f"no {qtype} record"
            self.res.authoritative_zone = zone.zone_name
            self.res.source = "private-zone"
            self.step(server, f"{where} has {what} for '{rel}': NOERROR with no data (NODATA)", StepKind.PRIVATE_ZONE,
                      zone.id, Failure.NODATA)
            return
        if link.resolution_policy == "NxDomainRedirect":
            self.step(server, f"private zone {zone.zone_name} has no record '{rel}'; NxDomainRedirect falls back to "
                              "public DNS", StepKind.PRIVATE_ZONE, zone.id)
            self.public(name, follow=None, server=server + " -> public DNS")
            return
        self.res.authoritative_zone = zone.zone_name
        self.fail(server, f"{where} has no record '{rel}': NXDOMAIN", StepKind.PRIVATE_ZONE, zone.id,
                  rcode="NXDOMAIN")

    # servers by address -----------------------------------------------------------------------------
    def server_at(self, ip: str, name: str, from_site: SiteR | None, from_vnet: VNetR | None, who: str) -> None:
        if self._loop_guard():
            return
        fwd: ForwarderR | None = self.ix.forwarders_by_ip.get(ip)
        if fwd is not None:
            fkind = FORWARDER_STEP[fwd.spec.kind]
            if from_site is not None and not site_reaches(from_site, fwd.vnet):
                self.fail(who, f"forwards to {ip} ({_kind(fwd)} {shown(fwd)}), but the site has no VPN or ExpressRoute "
                               f"path to {shown(fwd.vnet)}: the query times out", fkind, ip, Failure.TIMEOUT)
                return
            if from_vnet is not None and from_vnet is not fwd.vnet and fwd.vnet not in from_vnet.peers:
                self.fail(who, f"forwards to {ip}, which {shown(from_vnet)} cannot reach", fkind, ip, Failure.UNREACHABLE)
                return
            self.res.forwarder = self.res.forwarder or fwd.name
            self.step(f"{_kind(fwd)} {shown(fwd)} ({ip})", f"resolves through Azure DNS of {shown(fwd.vnet)}", fkind, ip)
            self.azure(fwd.vnet, name)
            return
        if ip == cat.AZURE_DNS_IP:
            if from_vnet is not None:
                self.azure(from_vnet, name)
            else:
                self.fail(who, f"forwards to {ip}, Azure's virtual DNS address, which is not reachable from on-premises: "
                               "the query times out", StepKind.AZURE_DNS, ip, Failure.TIMEOUT)
            return
        for site in self.ix.sites.values():
            if site.spec.dns and site.spec.dns.address == ip:
                if from_site is not None and site is not from_site and not _sites_connected(self.ix, from_site, site):
                    self.fail(who, f"forwards to {ip} (DNS of site '{site.name}'), which it cannot reach",
                              StepKind.ON_PREM_SERVER, ip, Failure.UNREACHABLE)
                    return
                self.site(site, name, asked=False)
                return
        if cat.is_private(ip):
            self.fail(who, f"forwards to {ip}, where no DNS server is modelled: the query times out",
                      StepKind.UNMODELLED_SERVER, ip, Failure.TIMEOUT)
            return
        label = "public resolver" if ip in cat.PUBLIC_RESOLVERS else "internet resolver"
        self.step(who, f"forwards to {ip} ({label})", StepKind.PUBLIC_RESOLVER, ip)
        self.public(name, follow=None,
                    server=f"{label} {ip}")

    # on-premises -------------------------------------------------------------------------------------
    def site(self, site: SiteR, name: str, asked: bool = True) -> None:
        dns = site.spec.dns
        if dns is None:
            if asked:
                self.res.first_server = "public resolver"
            self.step(f"site '{site.name}'", "has no DNS server of its own: machines use a public resolver",
                      StepKind.SITE_WITHOUT_DNS)
            self.public(name, follow=None)
            return
        who = f"DNS server {dns.address} of site '{site.name}'"
        if asked and self.res.first_server is None:
            self.res.first_server = dns.address
        self._site_lookup(site, name, who)

    def _site_lookup(self, site: SiteR, name: str, who: str) -> None:
        if self._loop_guard():
            return
        dns = site.spec.dns
        assert dns is not None  # only a site with its own server looks names up itself
        # 1. zones the server hosts itself
        hosted = [z.rstrip(".").lower() for z in dns.zones]
        zone = max((z for z in hosted if _in_zone(name, z)), key=len, default=None)
        records = [r for r in dns.records if r.name.rstrip(".").lower() == name]
        if zone or records:
            cname = next((r for r in records if r.type == "CNAME" and r.cname), None)
            if cname and cname.cname:
                target = cname.cname.rstrip(".").lower()
                self.step(who, f"manual record {name} CNAME {target}", StepKind.MANUAL_RECORD, zone)
                self.add(name, "CNAME", cname.ttl, target)
                self._site_lookup(site, target, who)
                return
            a = [r for r in records if r.type == "A"]
            addrs = [x for r in a for x in r.addresses]
            if addrs:
                if self.res.qtype in ("A", "ANY"):
                    for r in a:
                        for x in r.addresses:
                            self.add(name, "A", r.ttl, x)
                self.res.source = "manual"
                self.step(who, f"manual record {name} A {', '.join(addrs)}", StepKind.MANUAL_RECORD, zone)
                return
            if records:
                # The name is there, with no address: an empty placeholder, or another type only.
                # NOERROR with no data, like any DNS server holding the name (docs/rules/APL017.md).
                self.res.authoritative_zone = zone
                self.res.source = "manual"
                what = "an empty placeholder record" if a else "no A record"
                self.step(who, f"has {what} for {name}: NOERROR with no address (NODATA)", StepKind.MANUAL_RECORD,
                          zone, Failure.NODATA)
                return
            if zone:
                self.res.authoritative_zone = zone
                self.fail(who, f"hosts zone {zone} but has no A record for {name}: NXDOMAIN",
                          StepKind.HOSTED_ZONE, zone, rcode="NXDOMAIN")
                return
        # 2. conditional forwarders
        fwd = max((cf for cf in dns.conditional_forwarders if _in_zone(name, cf.zone.rstrip(".").lower())),
                  key=lambda cf: len(cf.zone), default=None)
        if fwd is not None and fwd.targets:
            self.step(who, f"conditional forwarder for {fwd.zone.rstrip('.')} -> {fwd.targets[0]}",
                      StepKind.CONDITIONAL_FORWARDER, fwd.targets[0])
            self.server_at(fwd.targets[0], name, site, None, who)
            return
        # 3. upstream
        if dns.upstream == "internet":
            hit = public_lookup(name)
            if hit and hit[0] == "CNAME":
                self.step(who, f"recursion: public DNS says {name} is a CNAME to {hit[1]}", StepKind.RECURSION)
                self.add(name, "CNAME", PUBLIC_TTL, hit[1])
                self._site_lookup(site, hit[1], who)
                return
            self.public(name, follow=lambda n: self._site_lookup(site, n, who), server=f"{who} (recursion)",
                        kind=StepKind.RECURSION)
            return
        self.step(who, f"forwards everything else to {dns.upstream}", StepKind.ON_PREM_SERVER, dns.upstream)
        self.server_at(dns.upstream, name, site, None, who)

    def vnet(self, vnet: VNetR, name: str) -> None:
        if vnet.spec.dns_servers:
            ip = vnet.spec.dns_servers[0]
            self.res.first_server = ip
            self.step(f"virtual network {shown(vnet)}", f"uses custom DNS server {ip}", StepKind.VNET_CUSTOM_DNS, ip)
            self.server_at(ip, name, None, vnet, f"DNS server {ip}")
            return
        self.res.first_server = cat.AZURE_DNS_IP
        self.azure(vnet, name)


_SOA_KEY = ("@", "SOA")


def zone_data(zone: ZoneR, rel: str, qtype: str) -> list[tuple[str, int, str]]:
    """What a private zone holds for (relative name, type): (type, ttl, rdata text) rows; ANY gives all.

    The apex SOA exists from the zone's creation (``catalogue.PRIVATE_ZONE_SOA``; an ``@`` SOA record
    set in the zone changes its numbers), and the apex answers NS with the SOA's host.
    """
    types = ("A", "AAAA", "CNAME", "TXT", "SOA", "NS") if qtype == "ANY" else (qtype,)
    out: list[tuple[str, int, str]] = []
    for t in types:
        if t == "SOA" and rel == "@":
            rec = zone.records.get(_SOA_KEY)
            soa = cat.PRIVATE_ZONE_SOA
            text = rec.soa if rec is not None and rec.soa else (
                f"{soa['host']}. {soa['email']}. {soa['serialNumber']} {soa['refreshTime']} {soa['retryTime']} "
                f"{soa['expireTime']} {soa['minimumTtl']}")
            out.append(("SOA", rec.ttl if rec is not None else int(str(soa["ttl"])), text))
            continue
        if t == "NS" and rel == "@":
            out.append(("NS", int(str(cat.PRIVATE_ZONE_SOA["ttl"])), cat.PRIVATE_ZONE_NS + "."))
            continue
        rec = zone.records.get((rel, t))
        if rec is None:
            continue
        if t in ("A", "AAAA"):
            out += [(t, rec.ttl, a) for a in rec.addresses]
        elif t == "TXT":
            out += [(t, rec.ttl, x) for x in rec.texts]
        elif t == "CNAME" and rec.cname:
            out.append((t, rec.ttl, rec.cname.rstrip(".").lower()))
    return out


def _in_zone(name: str, zone: str) -> bool:
    """Is ``name`` the zone's apex or under it (both lower-case, no trailing dot)?"""
    return name == zone or name.endswith("." + zone)


def _kind(f: ForwarderR) -> str:
    return {"privateResolverInbound": "DNS private resolver inbound endpoint", "vm": "DNS forwarder VM",
            "firewallDnsProxy": "Azure Firewall DNS proxy"}[f.spec.kind]


def site_reaches(site: SiteR, vnet: VNetR) -> bool:
    """A site reaches a VNet it is connected to, or one peered with it through gateway transit
    (``transit.site_route``: the hub allows it, the spoke uses the remote gateways)."""
    return site_route(site, vnet) is not None


def _sites_connected(index: Index, a: SiteR, b: SiteR) -> bool:
    va = {v.name for _, v in a.connections}
    return any(v.name in va for _, v in b.connections)
