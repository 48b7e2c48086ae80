"""``--explain``: the plain-words diagnosis the seed's troubleshooting section implies.

Emulator mode explains from the model: the steps of ``resolve()`` for the site, ``reach()``
for its clusters, and the rules' findings about the site. Network mode can only explain
from what it saw: the answers, the addresses, the connections.
"""

from __future__ import annotations

from arclink.doctor.plan import ARC_ZONE_NAMES, SERVICE_TAG_NAMES
from arclink.doctor.report import Diagnosis, Report
from arclink.model import catalogue as cat
from arclink.model.steps import StepKind


def diagnose(cfg, run, report: Report) -> list[Diagnosis]:
    failing = {(c.id, c.target) for c in report.checks if c.status == "fail"}
    if not failing and cfg.emulator is None:
        return []
    if cfg.emulator is not None:
        return _from_model(cfg, run, report, failing)
    return _from_observation(cfg, run, report, failing)


# --- shared helpers -----------------------------------------------------------------------------------


def _by_zone(names) -> dict:
    out: dict = {}
    for n in names:
        z = cat.arc_zone_for(n)
        out.setdefault(z.key if z else n, (z, []))[1].append(n)
    return out


def _refs(failing, names, ids) -> list[str]:
    return [f"{cid} {n}" for n in names for cid in ids if (cid, n) in failing]


def _dns_failed(failing, run) -> list[str]:
    return [n for n in run.plan.arc if ("DNS001", n) in failing or ("DNS002", n) in failing]


def _public_diagnoses(run, failing) -> list[Diagnosis]:
    out = []
    private = [c for c in run.plan.public if ("PUB001", c.name) in failing and run.answers.get(c.name)
               and run.answers[c.name].ok]
    for ep in private:
        out.append(Diagnosis(
            f"{ep.name} ({ep.purpose}) resolves to {', '.join(run.answers[ep.name].addresses)}: it has no Azure Arc "
            f"private endpoint and must stay public; remove the record or forwarder that makes it private.",
            [f"PUB001 {ep.name}"]))
    return out


def _tls_diagnoses(run, failing) -> list[Diagnosis]:
    out = []
    for n, conn in run.conns.items():
        if ("TLS001", n) not in failing:
            continue
        if conn.tls == "name-mismatch":
            text = (f"{n} presents a certificate for {', '.join(conn.names) or conn.subject or 'another name'}: "
                    "something other than the Arc endpoint answers there (a TLS-inspecting proxy, or a record "
                    "pointing at another service); bypass the proxy for the Arc names and check the A records.")
        elif conn.tls == "untrusted":
            text = (f"{n} presents a certificate issued by {conn.issuer or 'an unknown issuer'} that is not trusted: "
                    "a TLS-inspecting proxy or firewall re-signs the connection; exclude the Arc names from "
                    "inspection.")
        else:
            text = f"the TLS handshake with {n} failed ({conn.detail}); nothing on the way may interrupt TLS."
        out.append(Diagnosis(text, [f"TLS001 {n}"]))
    return out


# --- network mode: from what was seen ------------------------------------------------------------------


def _from_observation(cfg, run, report, failing) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    server = f"{run.dns_at[0]}" + ("" if run.dns_at[1] == 53 else f":{run.dns_at[1]}")
    for _, (zone, names) in _by_zone(_dns_failed(failing, run)).items():
        refs = _refs(failing, names, ("DNS001", "DNS002"))
        answers = [run.answers[n] for n in names if n in run.answers]
        timeouts = [a for a in answers if a.rcode in ("TIMEOUT", "ERROR")]
        nx = [a for a in answers if a.rcode not in ("NOERROR", "TIMEOUT", "ERROR") or (a.rcode == "NOERROR"
                                                                                      and not a.addresses)]
        outside = [n for n in names if ("DNS002", n) in failing and any(
            c.id == "DNS002" and c.target == n and c.evidence.get("outside") for c in report.checks)]
        public = [a for a in answers if a.ok and a.name not in outside]
        zname = zone.public_zone if zone else names[0]
        pzone = zone.private_zone if zone else names[0]
        if timeouts:
            out.append(Diagnosis(f"the DNS server {server} does not answer for {', '.join(a.name for a in timeouts)}: "
                                 "check that it runs and that this machine reaches it, or give --dns-server.", refs))
        if nx:
            out.append(Diagnosis(
                f"your DNS server {server} has no address for {', '.join(a.name for a in nx)} "
                f"({nx[0].rcode}): a zone for {zname} or {pzone} exists on it or its forwarder without this record; "
                "create the A records listed in the private endpoint's DNS configuration (never empty records).",
                refs))
        if outside:
            cidrs = ", ".join(str(c) for c in cfg.vnet_cidrs)
            out.append(Diagnosis(
                f"your DNS server {server} answers private addresses outside {cidrs} for {', '.join(outside)}: the "
                "records belong to another private endpoint (another scope or virtual network); point "
                f"{zname} at the DNS forwarder of the virtual network that holds this scope's private endpoint.",
                refs))
        if public:
            a = public[0]
            out.append(Diagnosis(
                f"your DNS server {server} answers public addresses for {a.name}: it forwards {zname} to a public "
                "resolver, or to a server that cannot see the private DNS zone "
                f"{pzone}, instead of the DNS forwarder in Azure; add a conditional forwarder for {zname} to your "
                "DNS forwarder in Azure (a DNS private resolver inbound endpoint, a forwarder VM or an Azure "
                "Firewall DNS proxy), or create the private endpoint's A records on it.", refs))
    mixed = next((c for c in report.checks if c.id == "DNS003" and c.status == "fail"), None)
    if mixed is not None and mixed.evidence.get("private") and mixed.evidence.get("public"):
        out.append(Diagnosis(
            "some Arc names resolve private and others public: the conditional forwarders differ per zone; forward "
            f"all three zones ({ARC_ZONE_NAMES}) to the same DNS forwarder in Azure.", ["DNS003 *"]))
    for n in run.plan.arc:
        if ("NET001", n) in failing:
            addr = run.answers[n].addresses[0]
            kind = "private endpoint" if cat.is_private(addr) else "public Arc endpoint"
            out.append(Diagnosis(
                f"{addr} ({n}, the {kind}) does not answer on TCP 443: check the site-to-site VPN or ExpressRoute "
                "route to the private endpoint's virtual network and every firewall or NSG on the way.",
                [f"NET001 {n}"]))
    out += _tls_diagnoses(run, failing)
    out += _public_diagnoses(run, failing)
    blocked = [ep for ep in run.plan.public if ("PUB002", ep.name) in failing]
    if blocked:
        tags = sorted({t for ep in blocked for t in ep.tags})
        out.append(Diagnosis(
            f"{', '.join(ep.name for ep in blocked)} cannot be reached on TCP 443: allow outbound TCP 443 to the "
            f"service tags {', '.join(tags)} on your firewall ({cat.TAG_FRONTDOOR} inbound and outbound), as "
            "the network configuration section requires during the preview.",
            [f"PUB002 {ep.name}" for ep in blocked]))
    return out


# --- emulator mode: from the model ---------------------------------------------------------------------


def suggest_forwarder(ix, site, zone):
    """A DNS forwarder in Azure the site reaches, preferably one whose VNet sees the private zone."""
    from arclink.model.resolve import site_reaches

    reachable = [f for f in ix.forwarders.values() if site_reaches(site, f.vnet)]
    linked = [f for f in reachable if any(z.zone_name == zone.private_zone for z, _ in f.vnet.zone_links)]
    return (linked or reachable or [None])[0]


def _who(site, res) -> str:
    if res.first_server in (None, "public resolver"):
        return f"site '{site.name}' has no DNS server of its own, so its machines ask a public resolver, which"
    return f"your DNS server {res.first_server}"


def _explain_public(ix, site, zone, res) -> tuple[str, str]:
    """(why the answer is public, what to do)."""
    fwd = suggest_forwarder(ix, site, zone)
    to = (f"{fwd.ip}" if fwd else "a DNS forwarder in Azure (a DNS private resolver inbound endpoint) in the "
                                  "private endpoint's virtual network")
    add = f"add a conditional forwarder for {zone.public_zone} to {to}"
    for step in res.steps:
        if step.kind is StepKind.PUBLIC_RESOLVER:
            return f"it forwards to a public resolver ({step.target}) instead of the DNS forwarder in Azure", add
    if res.forwarder:
        f = ix.forwarders.get(res.forwarder.lower())
        if f is not None:
            return (f"it forwards {zone.public_zone} to {f.ip} ('{f.name}'), which resolves through Azure DNS of "
                    f"'{f.vnet.name}', and that virtual network has no link to the private DNS zone {zone.private_zone}",
                    f"link {zone.private_zone} to virtual network '{f.vnet.name}'")
    if res.first_server in (None, "public resolver"):
        return "", f"give the site a DNS server that forwards {zone.public_zone} to {to}"
    if any(s.kind is StepKind.RECURSION for s in res.steps):
        return f"it has no conditional forwarder for {zone.public_zone} and resolves it on the internet", add
    return (res.steps[-1].action if res.steps else "it does not reach the private DNS zone"), add


def _explain_resolution(ix, site, zone, name, res) -> str:
    who = _who(site, res)
    last = res.steps[-1].action if res.steps else ""
    if res.rcode == "NOERROR" and res.addresses and not res.private:
        why, fix = _explain_public(ix, site, zone, res)
        return f"{who} answers public addresses for {name}" + (f": {why}" if why else "") + f"; {fix}."
    if res.rcode == "NXDOMAIN":
        if res.steps and res.steps[-1].kind is StepKind.HOSTED_ZONE:
            fix = ("add the A records listed in the private endpoint's DNS configuration to that zone "
                   "(never empty records)")
        else:
            fix = ("add the zone to the private endpoint's DNS zone group (Integrate with private DNS zone: Yes), "
                   "or create the A record from the endpoint's DNS configuration")
        return f"{who} answers NXDOMAIN for {name}: {last}; {fix}."
    if res.rcode != "NOERROR":
        return (f"{who} cannot resolve {name}: {last}; forward {zone.public_zone} to a DNS forwarder in Azure that "
                "the site reaches over VPN or ExpressRoute.")
    return ""


def site_findings(ix, site, rule_id: str | None = None) -> list:
    """Rule findings (error and warning) about the site: its own, its clusters', and those of shared
    resources (scope, VNet, endpoint, zone) that name no other site or cluster."""
    every = ix.memo(("doctor", "findings"), lambda: _all_findings(ix))
    own = {f"site:{site.name}".lower()} | {c.id.lower() for c in ix.clusters_in(site)}
    others = set()
    for s in ix.sites.values():
        if s is not site:
            others |= {f"site:{s.name}".lower()} | {c.id.lower() for c in ix.clusters_in(s)}
    others |= {c.id.lower() for c in ix.clusters.values() if c.site is None}
    out = []
    for f in every:
        if f.severity not in ("error", "warning") or (rule_id and f.rule != rule_id):
            continue
        names = {(f.resource or "").lower()} | {str(x).lower() for x in f.related}
        if names & own or f.path == site.path or f.path.startswith(site.path + ".") or not names & others:
            out.append(f)
    return out


def _all_findings(ix) -> list:
    from arclink.model import rules

    found = []
    for r in rules.all_rules():
        try:
            found.extend(r.check(ix))
        except Exception:  # noqa: BLE001 - one broken rule must not stop the diagnosis
            continue
    found.sort(key=lambda f: (f.rule, f.path))
    return found


def _from_model(cfg, run, report, failing) -> list[Diagnosis]:
    from arclink.model.trace import cluster_trace, site_resolution

    ix, site = cfg.emulator.index, run.site
    out: list[Diagnosis] = []
    unanswered = [n for n in run.plan.arc if run.answers.get(n) and run.answers[n].rcode in ("TIMEOUT", "ERROR")]
    if unanswered:
        out.append(Diagnosis(f"the emulator's DNS server at {run.dns_at[0]}:{run.dns_at[1]} does not answer; is "
                             "'arclink serve' running?", _refs(failing, unanswered, ("DNS001",)), "observed"))
    for _, (zone, names) in _by_zone(n for n in _dns_failed(failing, run) if n not in unanswered).items():
        res = site_resolution(ix, site, names[0])
        text = _explain_resolution(ix, site, zone, names[0], res)
        outside = [n for n in names if any(c.id == "DNS002" and c.target == n and c.evidence.get("outside")
                                           for c in report.checks)]
        if outside and not text:
            from arclink.model.reach import endpoint_at

            hit = endpoint_at(ix, run.answers[outside[0]].addresses[0])
            where = f"private endpoint '{hit[0].name}' in '{hit[0].vnet.name}'" if hit else "another network"
            text = (f"{outside[0]} resolves to an address of {where}, outside --vnet-cidr: the site's DNS reaches "
                    "another network's private endpoint.")
        if text:
            out.append(Diagnosis(text, _refs(failing, names, ("DNS001", "DNS002")), "model"))
    # what happens to the site's clusters after DNS: route, firewall, approval, admission
    seen = set()
    for c in ix.clusters_in(site):
        ff = cluster_trace(ix, c).first_failure
        if ff is None or ff[0] == "DnsResolutionFailed":
            continue
        code, reason = ff
        key = (code, reason)
        refs = [f"{cid} {n}" for n in run.plan.arc for cid in ("NET001", "TLS001") if (cid, n) in failing]
        if key in seen:
            continue
        seen.add(key)
        out.append(Diagnosis(f"cluster '{c.name}' at site '{site.name}' is refused ({code}): {reason}", refs, "model"))
    if not ix.clusters_in(site):
        from arclink.model.reach import reach

        for n in run.plan.arc:
            if ("NET001", n) in failing:
                r = reach(ix, None, run.answers[n].addresses[0], n, src_address=run.src)
                if r.code in ("NoRouteToPrivateEndpoint", "BlockedByFirewall"):
                    out.append(Diagnosis(f"connections from site '{site.name}' to {r.address} ({n}) are dropped "
                                         f"({r.code}): {r.reason}", [f"NET001 {n}"], "model"))
                    break
    out += _tls_diagnoses(run, failing)
    out += _public_diagnoses(run, failing)
    blocked = [c for c in report.checks if c.id == "PUB002" and c.status == "fail"]
    if blocked:
        tags = sorted({t for c in blocked for t in c.evidence.get("blocked", [])})
        out.append(Diagnosis(
            f"the firewall of site '{site.name}' blocks {', '.join(tags)}: onboarding and image pulls need outbound "
            f"TCP 443 to {SERVICE_TAG_NAMES}; add those service tags to the site's firewall.",
            [f"PUB002 {c.target}" for c in blocked], "model"))
    texts = {d.text for d in out}
    for f in site_findings(ix, site):
        text = f"{f.message} Fix: {f.fix}"
        if text not in texts:
            texts.add(text)
            out.append(Diagnosis(text, [], f.rule))
    return out
