"""The onboarding path of a cluster beyond its private endpoint, decided once for lint and explain.

A cluster onboards only when, besides its Arc names reaching the private endpoint, the site
firewall lets the public Azure services through (APL008), the region offers private link
(APL021) and is the scope's (APL004), the subscriptions are registered to the resource providers the writes need (APL014)
and the onboarding tools are recent enough (APL022). Each of those rules decides with a function
of this module, and ``model.trace`` makes a hop of each for ``arclink explain``: one decision,
so that ``explain`` never admits a cluster that ``lint`` reports an error for.

Writes ARM refuses are hops too, decided by the helpers the rules and the emulator's refusals
call: a private endpoint the names connect to that ARM would not create (its group id, APL018;
its region against its virtual network's, APL005; a second scope in its virtual network, APL001)
and features or extensions a private-link cluster cannot have (APL012).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Iterable

from arclink.model import catalogue as cat
from arclink.model.index import ClusterR, Index, NsgR, PeR, ScopeR, SiteR, VNetR, ZoneR
from arclink.model.reach import firewall_allows
from arclink.model.resolved import shown
from arclink.model.rules import Rule, apl001, apl005, apl012, apl018

# The codes explain refuses with when an onboarding hop fails (design.md's reason codes, then ARM's).
BLOCKED_BY_FIREWALL = "BlockedByFirewall"
REGION_UNAVAILABLE = "LocationNotAvailableForResourceType"
LOCATION_MISMATCH = "PrivateLinkScopeLocationMismatch"
MISSING_REGISTRATION = "MissingSubscriptionRegistration"
TOOLS_TOO_OLD = "UnsupportedCliVersion"


@dataclass
class OnboardingHop:
    what: str
    ok: bool
    detail: str
    code: str  # the refusal code when the hop fails

    def to_dict(self) -> dict:
        return {"what": self.what, "ok": self.ok, "detail": self.detail, "code": None if self.ok else self.code}


# --- site firewall (APL008) -------------------------------------------------------------------


def needs_service_tags(clusters: list[ClusterR]) -> bool:
    """Is the site held to the page's private-link firewall table? Only when it has a private-link
    cluster: the four service tags and Front Door inbound are the private-link requirement; public
    clusters follow the public network requirements, which the model does not check."""
    return any(c.private_link for c in clusters)


def firewall_gaps(site: SiteR) -> tuple[list[str], list[str]]:
    """(outbound tags not allowed, inbound tags not allowed) by the site's firewall."""
    out = [t for t in cat.REQUIRED_SERVICE_TAGS if not firewall_allows(site, t)]
    inb = [t for t in cat.INBOUND_SERVICE_TAGS if not firewall_allows(site, t, inbound=True)]
    return out, inb


# --- region (APL021) --------------------------------------------------------------------------


def region_unavailable(location: str | None) -> str | None:
    """The refusal sentence for a scope or private-link cluster in ``location``, or None."""
    loc = cat.normalize_location(location)
    if loc in cat.unavailable_regions():
        display = cat.REGIONS.get(loc, (loc,))[0]
        return (f"Azure Arc private link for Kubernetes is not available in {display} ({loc}): the preview covers every "
                "region with Azure Arc-enabled Kubernetes except South East Asia.")
    return None


# The CLI's wording (connectedk8s custom.py, error AZK8S0105 PrivateLinkScopeLocationMismatch).
CLI_MESSAGE = ("The location of the private link scope resource does not match the location of connected cluster "
               "resource. Please ensure that both the resources are in the same azure location.")


def region_mismatch(cluster_location: str | None, scope_location: str | None) -> str | None:
    """The refusal message when a cluster and its scope are in different regions, else None."""
    if cat.normalize_location(cluster_location) == cat.normalize_location(scope_location):
        return None
    return (f"{CLI_MESSAGE} (cluster location '{cat.normalize_location(cluster_location)}', "
            f"private link scope location '{cat.normalize_location(scope_location)}')")


# --- resource provider registration (APL014) -----------------------------------------------------

HYBRID_COMPUTE = "Microsoft.HybridCompute"
KUBERNETES, KUBERNETES_CONFIGURATION = cat.REQUIRED_PROVIDERS
NETWORK = "Microsoft.Network"
# The page: the scope's subscription is registered to Microsoft.Kubernetes and Microsoft.KubernetesConfiguration;
# ARM: the scope itself is a Microsoft.HybridCompute resource.
SCOPE_PROVIDERS = (HYBRID_COMPUTE, *cat.REQUIRED_PROVIDERS)

Registered = Iterable[str]


def providers_needed(res: ScopeR | ClusterR | PeR | VNetR | NsgR | ZoneR) -> tuple[str, ...]:
    """The namespaces a resource's subscription must be registered to (ARM refuses the write otherwise)."""
    if isinstance(res, ScopeR):
        return SCOPE_PROVIDERS
    if isinstance(res, ClusterR):
        return (KUBERNETES, KUBERNETES_CONFIGURATION) if res.spec.extensions else (KUBERNETES,)
    return (NETWORK,)


def missing_providers(registered: Registered, needed: Iterable[str] = cat.REQUIRED_PROVIDERS) -> list[str]:
    """The namespaces of ``needed`` absent from ``registered`` (compared without case)."""
    have = {p.lower() for p in registered}
    return [p for p in needed if p.lower() not in have]


def registered_providers(ix: Index, subscription: str) -> list[str] | None:
    """The subscription's registrations; None when the topology declares no subscriptions (unknown, not missing)."""
    if not ix.topology.subscriptions:
        return None
    sub = ix.subscriptions.get(subscription.lower())
    return list(sub.registered_providers) if sub else []


def unregistered(ix: Index, res: ScopeR | ClusterR | PeR | VNetR | NsgR | ZoneR) -> list[str]:
    """The namespaces ``res`` needs that its subscription is not registered to."""
    registered = registered_providers(ix, res.subscription)
    return [] if registered is None else missing_providers(registered, providers_needed(res))


# --- onboarding tools (APL022) ----------------------------------------------------------------

# A pre-release or build suffix must start with a letter ("b1", "-beta.1", "+build"), so "2.x" is refused.
_VERSION = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+]?[A-Za-z][0-9A-Za-z.+-]*)?\s*$")


@lru_cache(maxsize=256)
def parse_version(text: str | None) -> tuple[int, int, int] | None:
    m = _VERSION.match(str(text)) if text is not None else None
    if not m:
        return None
    return tuple(int(g or 0) for g in m.groups())  # type: ignore[return-value]


def _show(v: tuple) -> str:
    return ".".join(map(str, v))


@lru_cache(maxsize=256)
def tool_problems(connectedk8s: str | None, azure_cli: str | None) -> tuple[str, ...]:
    """Problems with one pair of recorded versions (memoised: clusters share a handful of pairs)."""
    out = []
    checks = (("connectedk8s extension", "tools.connectedk8s", connectedk8s, cat.MIN_CONNECTEDK8S),
              ("Azure CLI", "tools.azureCli", azure_cli, cat.MIN_AZURE_CLI))
    for label, field, value, minimum in checks:
        if value is None:
            continue
        v = parse_version(value)
        if v is None:
            out.append(f"{field} '{value}' is not a version number (write it like {_show(minimum)})")
        elif v < minimum:
            out.append(f"{label} {value} is older than {_show(minimum)}")
    return tuple(out)


def cluster_tool_problems(cluster: ClusterR) -> tuple[str, ...]:
    """APL022's decision for one cluster: only private-link clusters with recorded tools are judged."""
    tools = cluster.spec.tools
    if tools is None or not cluster.private_link:
        return ()
    return tool_problems(tools.connectedk8s, tools.azure_cli)


# --- writes ARM refuses (APL018, APL005, APL001, APL012) ----------------------------------------


def _code(rule: Rule) -> str:
    assert rule.arm_code is not None, rule.id  # every rule used here is a write-time refusal
    return rule.arm_code


def endpoint_refusal(pe: PeR) -> tuple[Rule, str] | None:
    """(rule, ARM's reason) when ARM refuses to create ``pe``, else None; checked in the emulator's order."""
    problem = apl018.group_id_problem(pe.target_type, pe.spec.group_ids)
    if problem:
        return apl018.RULE, problem
    if pe.vnet is not None:
        problem = apl005.pe_region_mismatch(pe.location, pe.vnet.location, pe.subnet.id, pe.id)
        if problem:
            return apl005.RULE, problem
    problem = apl001.association_problem(pe)
    return (apl001.RULE, problem) if problem else None


def endpoint_hop(pe: PeR) -> OnboardingHop:
    """"private endpoint '<name>' exists": fails with the refusing rule's ARM code."""
    refusal = endpoint_refusal(pe)
    what = f"private endpoint '{pe.name}' exists"
    if refusal is not None:
        rule, problem = refusal
        return OnboardingHop(what, False, f"ARM refuses it: {problem.rstrip('.')} ({rule.id})", _code(rule))
    accepted = [f"group id {', '.join(pe.spec.group_ids)}"]
    if pe.vnet is not None:
        accepted.append(f"in {pe.location} with its virtual network '{pe.vnet.name}'")
        if pe.is_arc and pe.scope is not None:
            accepted.append(f"the Azure Arc Private Link Scope of '{pe.vnet.name}' is '{pe.scope.name}'")
    return OnboardingHop(what, True, f"ARM accepts it ({'; '.join(accepted)})", _code(apl018.RULE))


def feature_problems(cluster: ClusterR) -> list[str]:
    """APL012's refusals of the cluster's features and extensions (empty for a cluster without private link)."""
    state = cluster.spec.private_link_state
    found = [apl012.feature_error(state, cluster.spec.features)]
    found += [apl012.extension_error(state, e) for e in cluster.spec.extensions]
    return list(dict.fromkeys(p for p in found if p))


def features_hop(cluster: ClusterR) -> OnboardingHop:
    problems = feature_problems(cluster)
    used = [*cluster.spec.features, *cluster.spec.extensions]
    detail = (f"ARM refuses them: {' '.join(problems).rstrip('.')} (APL012)" if problems
              else f"private link supports {', '.join(used)}")
    return OnboardingHop("cluster features and extensions", not problems, detail, _code(apl012.RULE))


# --- the hops of one cluster --------------------------------------------------------------------


def onboarding_hops(ix: Index, cluster: ClusterR, path: Iterable[PeR | VNetR | ZoneR] = ()) -> list[OnboardingHop]:
    """The onboarding hops of ``cluster`` besides its names: tools, registrations, the private endpoints'
    existence, region, features, site firewall.

    ``path`` is the private endpoints, virtual networks and zones its names went through: their
    subscriptions must be registered too, and ARM must accept the endpoints (a resource ARM refused
    does not exist to answer).
    """
    hops: list[OnboardingHop] = []
    if cluster.private_link and cluster.spec.tools is not None:
        problems = cluster_tool_problems(cluster)
        hops.append(OnboardingHop("onboarding tools", not problems,
                                  "; ".join(problems) or "connectedk8s and Azure CLI support private link",
                                  TOOLS_TOO_OLD))
    if ix.topology.subscriptions:
        subjects: list = [cluster] + ([cluster.scope] if cluster.scope is not None and cluster.private_link else [])
        subjects += [p for p in dict.fromkeys(path)]
        gaps = [(r, unregistered(ix, r)) for r in subjects]
        gaps = [(r, ns) for r, ns in gaps if ns]
        detail = "; ".join(f"subscription '{r.subscription}' ({_kind(r)} {shown(r)}) is not registered to "
                           f"{' and '.join(ns)}" for r, ns in gaps)
        hops.append(OnboardingHop("provider registration", not gaps,
                                  detail or "the subscriptions are registered to the providers the resources need",
                                  MISSING_REGISTRATION))
    # one hop per endpoint, shared by the clusters that connect to it
    hops += [ix.memo(("onboarding endpoint", pe.id), partial(endpoint_hop, pe))
             for pe in dict.fromkeys(path) if isinstance(pe, PeR)]
    if cluster.scope is not None:  # APL004: ARM refuses a cluster outside its scope's region
        mismatch = region_mismatch(cluster.location, cluster.scope.location)
        hops.append(OnboardingHop("scope region", not mismatch, mismatch or
                                  f"cluster and scope {shown(cluster.scope)} are both in {cluster.location}",
                                  LOCATION_MISMATCH))
    if cluster.private_link:
        where = [("cluster", cluster.location)] + ([("scope", cluster.scope.location)] if cluster.scope else [])
        bad = [(what, region_unavailable(loc)) for what, loc in where]
        bad = [(what, why) for what, why in bad if why]
        hops.append(OnboardingHop("region", not bad, f"{bad[0][0]}: {bad[0][1]}" if bad else
                                  f"private link is offered in {cluster.location}", REGION_UNAVAILABLE))
        if cluster.spec.features or cluster.spec.extensions:
            hops.append(features_hop(cluster))
        site = cluster.site
        if site is not None:
            out, inb = firewall_gaps(site)
            modelled = site.spec.firewall is not None
            for tag in cat.REQUIRED_SERVICE_TAGS:
                ok = tag not in out
                hops.append(OnboardingHop(f"site firewall: outbound TCP 443 to {tag}", ok,
                                          _fw_detail(site, ok, modelled), BLOCKED_BY_FIREWALL))
            for tag in cat.INBOUND_SERVICE_TAGS:
                ok = tag not in inb
                hops.append(OnboardingHop(f"site firewall: inbound TCP 443 from {tag}", ok,
                                          _fw_detail(site, ok, modelled), BLOCKED_BY_FIREWALL))
    return hops


def _fw_detail(site: SiteR, ok: bool, modelled: bool) -> str:
    if not modelled:
        return f"site '{site.name}' has no firewall modelled"
    return f"the firewall of site '{site.name}' {'allows' if ok else 'does not allow'} it (APL008)"


def _kind(res: object) -> str:
    return {"ScopeR": "private link scope", "ClusterR": "cluster", "PeR": "private endpoint", "VNetR": "virtual network",
            "NsgR": "network security group", "ZoneR": "private DNS zone"}.get(type(res).__name__, "resource")
