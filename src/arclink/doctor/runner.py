"""Run the checks concurrently, each bounded by a timeout, the whole run by a deadline.

Two modes share every check:
- network: the system resolver's nameservers or ``--dns-server`` (in order, the next one when one
  does not answer), then TCP/TLS
  to the resolved addresses on port 443;
- emulator: the emulator's DNS server, asked with ECS set to an address of the site, and
  its gateway on loopback, each connection starting with a PROXY v2 header that carries the
  modelled source and destination. Modelled addresses are never dialled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from typing import Callable

from arclink.endpoints import is_loopback
from arclink.doctor import probes
from arclink.doctor.config import Config, DoctorError, validate
from arclink.doctor.plan import ARC_ZONE_NAMES, Plan, build_plan
from arclink.doctor.report import Check, Report
from arclink.model import catalogue as cat
from arclink.net import is_private as _is_private

# The emulator gateway's refusals that mean the modelled network drops the connection (a real
# network would time out on TCP); ClusterNotRegistered means the path is open but the doctor
# holds no cluster key, which is expected.
PATH_REFUSALS = frozenset({"NoRouteToPrivateEndpoint", "BlockedByFirewall", "PrivateEndpointConnectionNotApproved",
                           "NotAnArcEndpoint"})


class _Run:
    def __init__(self, cfg: Config, plan: Plan, progress: Callable[[int, int], None] | None):
        self.cfg, self.plan = cfg, plan
        self.progress = progress
        self.results: dict[tuple[str, str], Check] = {}
        self.answers: dict[str, probes.DnsAnswer] = {}
        self.conns: dict[str, probes.TlsResult] = {}
        self.models: dict[str, dict] = {}  # name -> the model's resolution (emulator mode)
        self.order: list[tuple[str, str]] = []
        self.started = time.monotonic()
        emu = cfg.emulator
        if emu is not None:
            self.site = emu.site_r()
            self.src = emu.address()
            self.dns_at = emu.hostport("dns")
            self.dns_servers = [self.dns_at]
            self.gateway = emu.hostport("gateway")
            self.cafile = emu.endpoints.get("ca_cert")
        else:
            self.site, self.src, self.gateway, self.cafile = None, None, None, cfg.cafile
            self.dns_servers = list(cfg.dns_servers) or system_dns_servers()
            self.dns_at = self.dns_servers[0]
            for host, _ in self.dns_servers:
                if cfg.loopback_only and not is_loopback(host):
                    raise DoctorError(f"loopback-only mode: will not ask the DNS server {host}; "
                                      "give --dns-server 127.0.0.1:PORT.")
        self.ecs = self.src

    # bookkeeping -------------------------------------------------------------------------------
    def expect(self, cid: str, target: str) -> None:
        self.order.append((cid, target))

    def put(self, check: Check) -> None:
        self.results[(check.id, check.target)] = check
        if self.progress:
            self.progress(len(self.results), len(self.order))

    def left(self) -> float:
        return max(0.05, self.cfg.deadline - (time.monotonic() - self.started))

    def t(self) -> float:
        return min(self.cfg.timeout, self.left())

    # probes -----------------------------------------------------------------------------------------
    async def lookup(self, name: str) -> probes.DnsAnswer:
        ans = None
        for host, port in self.dns_servers:
            ans = await probes.dns_query(name, host, port, self.t(), ecs=self.ecs)
            if ans.rcode not in NEXT_SERVER:
                break
        assert ans is not None
        self.answers[name] = ans
        return ans

    async def connect(self, name: str, address: str, tls: bool = True) -> probes.TlsResult | None:
        """TCP (+TLS) to ``address``; None when the doctor may not dial it."""
        if self.gateway is not None:
            host, port = self.gateway
            return await probes.tcp_tls_probe(host, port, name, self.t(), cafile=self.cafile,
                                              proxy=(self.src, address), tls=tls, hello=tls)
        if self.cfg.loopback_only and not is_loopback(address):
            return None
        return await probes.tcp_tls_probe(address, self.cfg.connect_port, name, self.t(), cafile=self.cafile, tls=tls)

    # checks ----------------------------------------------------------------------------------------
    async def arc_name(self, name: str) -> None:
        ans = await self.lookup(name)
        ev = {"dns": ans.to_dict()}
        model = self.model_resolution(name)
        if model is not None:
            ev["model"] = model
        if ans.ok:
            self.put(Check("DNS001", name, "pass", f"{', '.join(ans.addresses)} via {ans.server}", ev))
        else:
            self.put(Check("DNS001", name, "fail", _dns_failure(ans), ev,
                           f"Make the DNS server the site uses resolve the Arc zones: forward {ARC_ZONE_NAMES} to "
                           "the DNS forwarder in Azure, or create the private endpoint's A records."))
            self.put(Check("DNS002", name, "skip", "the name did not resolve"))
            self.put(Check("NET001", name, "skip", "the name did not resolve"))
            self.put(Check("TLS001", name, "skip", "the name did not resolve"))
            return
        self.put(self.private_check(name, ans))
        address = ans.addresses[0]
        conn = await self.connect(name, address)
        if conn is None:
            why = f"{address} not dialled: loopback-only mode"
            self.put(Check("NET001", name, "skip", why, {"address": address}))
            self.put(Check("TLS001", name, "skip", why, {"address": address}))
            return
        self.conns[name] = conn
        where = self.where(address)
        ev = {"address": address, "port": 443 if self.gateway else self.cfg.connect_port, **where, **conn.to_dict()}
        gw = conn.gateway or {}
        blocked = self.gateway is not None and gw.get("code") in PATH_REFUSALS
        if conn.tcp != "connected" or blocked:
            summary = conn.detail if not blocked else f"blocked in the modelled network: {gw['code']}: {gw['reason']}"
            self.put(Check("NET001", name, "fail", f"{address}:{ev['port']} {summary}", ev,
                           "Check the route from the site to the private endpoint's virtual network (site-to-site "
                           "VPN or ExpressRoute) and any firewall or NSG that filters TCP 443 on the way."))
            self.put(Check("TLS001", name, "skip", "no TCP connection"))
            return
        seen = f"{address}:{ev['port']} connected in {conn.tcp_ms} ms"
        if gw.get("code") == "ClusterNotRegistered":
            seen += "; the modelled network lets it through to the endpoint"
        self.put(Check("NET001", name, "pass", seen, ev))
        tls_ev = {k: ev[k] for k in ("address", "tls", "detail", "version", "cipher", "subject", "issuer", "names")}
        if conn.tls == "verified":
            self.put(Check("TLS001", name, "pass", conn.detail, tls_ev))
        else:
            fix = {
                "name-mismatch": "Something other than the Arc endpoint answers on this address (a TLS-inspecting "
                                 "proxy, or a record pointing at another service): bypass the proxy for the Arc "
                                 "names and check the A records.",
                "untrusted": "A TLS-inspecting proxy or firewall re-signs the connection: exclude the Arc names "
                             "from TLS inspection.",
            }.get(conn.tls, "Check that the private endpoint's connection is approved and nothing on the way "
                            "interrupts TLS.")
            self.put(Check("TLS001", name, "fail", f"{conn.tls}: {conn.detail}", tls_ev, fix))

    def private_check(self, name: str, ans: probes.DnsAnswer) -> Check:
        addrs = ans.addresses
        private = [a for a in addrs if _is_private(a)]
        ev = {"addresses": addrs, "private": len(private) == len(addrs),
              "vnetCidr": [str(n) for n in self.cfg.vnet_cidrs]}
        outside = [a for a in private if self.cfg.vnet_cidrs
                   and not any(ipaddress.ip_address(a) in n for n in self.cfg.vnet_cidrs)]
        if outside:
            ev["outside"] = outside
            return Check("DNS002", name, "fail", f"{', '.join(outside)} is outside --vnet-cidr "
                                                 f"{', '.join(ev['vnetCidr'])}", ev,
                         "The answer is another network's private endpoint: point the Arc zones at the DNS "
                         "forwarder of the virtual network that holds this scope's private endpoint.")
        if len(private) == len(addrs):
            return Check("DNS002", name, "pass", f"private: {', '.join(addrs)}", ev)
        if self.cfg.enable_pls_check:
            return Check("DNS002", name, "fail", f"public: {', '.join(addrs)}", ev,
                         f"Forward {_zone_of(name)} from the site's DNS server to the DNS forwarder in Azure (not to "
                         "a public resolver), or create the private endpoint's A records on it.")
        return Check("DNS002", name, "pass", f"public: {', '.join(addrs)} (private resolution is required only "
                                             "with --enable-pls-check)", ev)

    async def public_name(self, ep: cat.PublicEndpoint) -> None:
        ans = await self.lookup(ep.name)
        ev = {"dns": ans.to_dict(), "serviceTags": list(ep.tags), "purpose": ep.purpose}
        if not ans.ok:
            self.put(Check("PUB001", ep.name, "fail", _dns_failure(ans), ev,
                           f"{ep.purpose} must resolve publicly: let the site's DNS server resolve {ep.name} on "
                           "the internet."))
        elif any(_is_private(a) for a in ans.addresses):
            self.put(Check("PUB001", ep.name, "fail", f"private: {', '.join(ans.addresses)}", ev,
                           f"{ep.purpose} has no Arc private endpoint and must stay public: remove the private "
                           f"record or forwarder for {ep.name}."))
        else:
            self.put(Check("PUB001", ep.name, "pass", f"public: {', '.join(ans.addresses)}", ev))
        fix = (f"Allow outbound TCP 443 to the service tags {', '.join(ep.tags)} on the site's firewall"
               + (f" ({cat.TAG_FRONTDOOR} inbound and outbound)" if cat.TAG_FRONTDOOR in ep.tags else "") + ".")
        if self.cfg.emulator is not None:
            self.put(self.modelled_firewall(ep, fix))
            return
        if not ans.ok:
            self.put(Check("PUB002", ep.name, "skip", "the name did not resolve"))
            return
        address = ans.addresses[0]
        conn = await self.connect(ep.name, address, tls=False)
        if conn is None:
            self.put(Check("PUB002", ep.name, "skip", f"{address} not dialled: loopback-only mode", {"address": address}))
        elif conn.tcp == "connected":
            self.put(Check("PUB002", ep.name, "pass", f"{address}:{self.cfg.connect_port} connected",
                           {"address": address, **conn.to_dict()}))
        else:
            self.put(Check("PUB002", ep.name, "fail", conn.detail, {"address": address, **conn.to_dict()}, fix))

    def modelled_firewall(self, ep: cat.PublicEndpoint, fix: str) -> Check:
        from arclink.model.reach import firewall_allows

        blocked = [t + (" (outbound)" if t in cat.INBOUND_SERVICE_TAGS else "") for t in ep.tags
                   if not firewall_allows(self.site, t)]
        blocked += [f"{t} (inbound)" for t in ep.tags
                    if t in cat.INBOUND_SERVICE_TAGS and not firewall_allows(self.site, t, inbound=True)]
        fw = self.site.spec.firewall
        ev = {"modelled": True, "serviceTags": list(ep.tags), "blocked": blocked,
              "firewall": None if fw is None else {"allowAll": fw.allow_all, "outbound": list(fw.outbound),
                                                   "inbound": list(fw.inbound)}}
        if blocked:
            return Check("PUB002", ep.name, "fail", f"site '{self.site.name}' firewall blocks {', '.join(blocked)}",
                         ev, fix)
        return Check("PUB002", ep.name, "pass", f"site '{self.site.name}' firewall allows {', '.join(ep.tags)}", ev)

    # emulator helpers -----------------------------------------------------------------------------
    def model_resolution(self, name: str) -> dict | None:
        """The model's answer for the site (emulator mode), worked out once per name."""
        if self.cfg.emulator is None:
            return None
        if name not in self.models:
            from arclink.model.trace import site_resolution

            res = site_resolution(self.cfg.emulator.index, self.site, name)
            self.models[name] = {"addresses": res.addresses, "source": res.source, "rcode": res.rcode,
                                 "firstServer": res.first_server, "forwarder": res.forwarder}
        return self.models[name]

    def where(self, address: str) -> dict:
        if self.cfg.emulator is None:
            return {}
        from arclink.model.reach import endpoint_at

        hit = endpoint_at(self.cfg.emulator.index, address)
        return {"privateEndpoint": hit[0].name if hit else None, "source": self.src}

    def model_checks(self) -> list[Check]:
        """Emulator mode: admission of the site's clusters and the rules' errors, from the model."""
        from arclink.model.trace import cluster_trace

        out = []
        for c in self.cfg.emulator.index.clusters_in(self.site):
            tr = cluster_trace(self.cfg.emulator.index, c)
            ff = tr.first_failure
            ev = {"cluster": c.id, "privateLinkState": c.spec.private_link_state,
                  "scope": c.scope.name if c.scope else None, "code": ff[0] if ff else "Admitted"}
            if ff is None:
                out.append(Check("ADM001", c.name, "pass", "admitted on every Arc name", ev))
            else:
                out.append(Check("ADM001", c.name, "fail", f"{ff[0]}: {ff[1]}", ev,
                                 "See the diagnosis (--explain) and 'arclink explain' for the cluster's path."))
        errors: dict[str, list] = {}
        for f in self.site_findings():
            if f.severity == "error":
                errors.setdefault(f.rule, []).append(f)
        for rule_id, found in sorted(errors.items()):
            out.append(Check("RUL001", rule_id, "fail", found[0].message + (f" (+{len(found) - 1} more)"
                                                                          if len(found) > 1 else ""),
                             {"findings": [f.to_dict() for f in found]}, found[0].fix))
        if not errors:
            out.append(Check("RUL001", "*", "pass", "no rule finds an error for this site"))
        return out

    # the aggregate -------------------------------------------------------------------------------
    def consistency(self) -> Check:
        names = [n for n in self.plan.arc if n in self.answers and self.answers[n].ok]
        if not names:
            return Check("DNS003", "*", "skip", "no Arc name resolved")
        ans = {n: self.answers[n] for n in names}
        servers = sorted({a.server for a in ans.values()})
        private = [n for n in names if all(_is_private(x) for x in ans[n].addresses)]
        public = [n for n in names if n not in private]
        ev: dict = {"servers": servers, "private": private, "public": public}
        problems: list[str] = []
        if len(servers) > 1:
            problems.append(f"answered by {len(servers)} DNS servers ({', '.join(servers)})")
        if private and public:
            problems.append(f"{len(private)} names resolve private and {len(public)} public "
                            f"(public: {', '.join(public)})")
        groups = self.endpoint_groups({n: ans[n].addresses for n in private})
        ev["endpoints"] = groups
        warn = False
        if len(groups) > 1:
            if self.cfg.emulator is not None or self.cfg.vnet_cidrs:
                problems.append(f"the private addresses belong to {len(groups)} endpoints ({', '.join(groups)})")
            else:
                warn = True
        if self.cfg.emulator is not None:
            forwarders = sorted({m["forwarder"] or "-" for n in names if (m := self.model_resolution(n))})
            ev["modelForwarders"] = forwarders
            apl003 = self.site_findings("APL003")
            ev["apl003"] = [f.message for f in apl003]
            if len(forwarders) > 1:
                problems.append(f"the model resolves them through {len(forwarders)} forwarders ({', '.join(forwarders)})")
            problems += [f"APL003: {f.message}" for f in apl003]
        fix = ("All clusters must use the same private endpoint through the same DNS forwarder: forward all three "
               f"Arc zones ({ARC_ZONE_NAMES}) to one DNS forwarder in Azure.")
        if problems:
            return Check("DNS003", "*", "fail", "; ".join(problems), ev, fix)
        if warn:
            return Check("DNS003", "*", "warn", f"the private addresses span {len(groups)} /24 networks; give "
                                                "--vnet-cidr to tell whether they are one endpoint's", ev)
        where = f"one endpoint ({groups[0] if groups else 'public'})"
        return Check("DNS003", "*", "pass", f"{len(names)} names through {servers[0]} to {where}", ev)

    def endpoint_groups(self, by_name: dict) -> list[str]:
        addrs = sorted({a for v in by_name.values() for a in v})
        if self.cfg.emulator is not None:
            from arclink.model.reach import endpoint_at

            ix = self.cfg.emulator.index
            hits = {a: endpoint_at(ix, a) for a in addrs}
            return sorted({h[0].name if h else f"no endpoint at {a}" for a, h in hits.items()})
        if self.cfg.vnet_cidrs:
            return sorted({next((str(n) for n in self.cfg.vnet_cidrs if ipaddress.ip_address(a) in n), f"outside {a}")
                           for a in addrs})
        return sorted({str(ipaddress.ip_network(f"{a}/24", strict=False)) for a in addrs})

    def site_findings(self, rule_id: str | None = None) -> list:
        from arclink.doctor.diagnose import site_findings

        return site_findings(self.cfg.emulator.index, self.site, rule_id)

    # the whole run ------------------------------------------------------------------------------------
    async def run(self) -> None:
        p = self.plan
        for n in p.arc:
            for cid in ("DNS001", "DNS002", "NET001", "TLS001"):
                self.expect(cid, n)
        self.expect("DNS003", "*")
        for ep in p.public:
            self.expect("PUB001", ep.name)
            self.expect("PUB002", ep.name)
        known = [Check("ATS001", n, "skip", "reserved name: Azure documents that it fails the connectivity check "
                                           "behind a private endpoint and can be safely ignored") for n in p.ignored]
        known += [Check("CCN001", n, "skip", "not used: Cluster Connect and Custom Locations are not supported "
                                            "with private link") for n in p.cluster_connect]
        if self.cfg.emulator is not None:
            known += self.model_checks()
        for c in known:  # decided without a probe
            self.expect(c.id, c.target)
            self.put(c)
        tasks = [asyncio.ensure_future(self.guard(self.arc_name(n), n)) for n in p.arc]
        tasks += [asyncio.ensure_future(self.guard(self.public_name(ep), ep.name)) for ep in p.public]
        done, pending = await asyncio.wait(tasks, timeout=self.left())
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self.put(self.consistency())

    async def guard(self, coro, target: str) -> None:
        """A check that breaks unexpectedly fails its own rows with the error, not the whole run."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported as the check's result
            for cid, tgt in self.order:
                if tgt == target and (cid, tgt) not in self.results:
                    self.put(Check(cid, tgt, "fail", f"the check could not complete: {type(exc).__name__}: {exc}"))


# What makes a stub resolver ask its next nameserver: no answer, or a server that will not answer
# (glibc's resolver moves on after SERVFAIL and REFUSED too); NXDOMAIN and NODATA are answers.
NEXT_SERVER = frozenset({"TIMEOUT", "ERROR", "SERVFAIL", "REFUSED"})


def system_dns_servers() -> list[tuple[str, int]]:
    import dns.resolver

    try:
        servers = dns.resolver.Resolver().nameservers
    except dns.resolver.NoResolverConfiguration:
        servers = []
    if not servers:
        raise DoctorError("the system has no DNS server configured (/etc/resolv.conf); give --dns-server IP.")
    return [(str(server), 53) for server in servers]


def _zone_of(name: str) -> str:
    z = cat.arc_zone_for(name)
    return z.public_zone if z else name


def _dns_failure(ans: probes.DnsAnswer) -> str:
    if ans.rcode == "NOERROR":
        return f"{ans.server} returned no address"
    return ans.error or f"{ans.server} answered {ans.rcode}"


def run(cfg: Config, progress: Callable[[int, int], None] | None = None) -> Report:
    """Run every check; returns the report (``report.exit_code`` is 0 or 1)."""
    validate(cfg)
    if cfg.emulator is not None and not cfg.location:
        cfg.location = cfg.emulator.location()
    plan = build_plan(cfg.location)
    r = _Run(cfg, plan, progress)
    asyncio.run(r.run())
    missing = f"not finished before the run's deadline ({cfg.deadline:g} s)"
    checks = [r.results.get(k) or Check(k[0], k[1], "fail", missing) for k in r.order]
    report = Report(cfg.mode, _options(cfg, r), checks)
    if cfg.explain:
        from arclink.doctor.diagnose import diagnose

        report.diagnosis = diagnose(cfg, r, report)
    report.elapsed_ms = int((time.monotonic() - r.started) * 1000)
    return report


def _options(cfg: Config, r: _Run) -> dict:
    out = {"location": cfg.location, "cloud": cfg.cloud, "enablePlsCheck": cfg.enable_pls_check,
           "dnsServer": f"{r.dns_at[0]}:{r.dns_at[1]}",
           "dnsServers": [f"{h}:{p}" for h, p in r.dns_servers], "vnetCidr": [str(n) for n in cfg.vnet_cidrs],
           "timeout": cfg.timeout, "site": None, "sourceAddress": None}
    if cfg.emulator is not None:
        out["site"], out["sourceAddress"] = r.site.name, r.src
    return out
