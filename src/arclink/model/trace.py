"""Per-cluster path traces: what a cluster resolves, where it connects, whether it is admitted.

A trace is the whole onboarding path: the onboarding hops of ``model.onboarding`` (tools,
provider registration, the existence of the private endpoints the names connect to, region,
features, the site firewall's service tags: decided by the same functions as APL022, APL014,
APL018/APL005/APL001, APL021, APL012 and APL008) and, per Arc name, its resolution and
``reach()``. A cluster is admitted only when every hop and every name is.

``arclink explain`` prints these; rules that ask "what does this site resolve" use
``site_resolution`` so that a site with 100 clusters is resolved once, not 100 times.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arclink.model import catalogue as cat
from arclink.model.index import ClusterR, Index, SiteR
from arclink.model.onboarding import OnboardingHop, onboarding_hops
from arclink.model.reach import Reach, reach
from arclink.model.resolve import INTERNET, Resolution, View, resolve
from arclink.model.steps import StepKind


def cluster_view(cluster: ClusterR) -> View:
    if cluster.site is not None:
        return View("site", cluster.site.name, cluster.address)
    return INTERNET


def agent_names(location: str) -> tuple[str, ...]:
    """The Arc FQDNs a cluster's agents use in a region (the private endpoint's DNS configuration)."""
    return tuple(r.fqdn for r in cat.arc_records(location))


def resolution(ix: Index, view: View, name: str) -> Resolution:
    """resolve(), memoised on the index per place and name (a view's client address does not change
    the answer, so every cluster of a site shares one resolution)."""
    return ix.memo(("resolution", view.key, name), lambda: resolve(ix, view, name))


def site_resolution(ix: Index, site: SiteR | None, name: str) -> Resolution:
    return resolution(ix, View("site", site.name) if site else INTERNET, name)


@dataclass
class NameTrace:
    fqdn: str
    resolution: Resolution
    reaches: list = field(default_factory=list)  # Reach per resolved address

    @property
    def ok(self) -> bool:
        return self.resolution.rcode == "NOERROR" and bool(self.reaches) and all(r.admitted for r in self.reaches)

    def to_dict(self) -> dict:
        return {"fqdn": self.fqdn, "resolution": self.resolution.to_dict(), "ok": self.ok,
                "connections": [r.to_dict() for r in self.reaches]}


@dataclass
class ClusterTrace:
    cluster: ClusterR
    names: list  # NameTrace
    onboarding: list = field(default_factory=list)  # OnboardingHop, in the order onboarding meets them

    @property
    def admitted(self) -> bool:
        return all(h.ok for h in self.onboarding) and all(n.ok for n in self.names)

    @property
    def failure(self) -> tuple[str, str] | None:
        """(code, plain sentence) of the first thing that breaks on the whole path, or None."""
        for h in self.onboarding:
            if not h.ok:
                return (h.code, f"{h.what}: {h.detail}.")
        return self.first_failure

    @property
    def first_failure(self) -> tuple[str, str] | None:
        """(code, plain sentence) of the first thing that breaks at the endpoint the names lead to, or
        None (the doctor's admission check; ``failure`` adds the onboarding hops)."""
        for n in self.names:
            if n.resolution.rcode != "NOERROR":
                return ("DnsResolutionFailed", f"{n.fqdn} does not resolve ({n.resolution.rcode}): "
                                               f"{n.resolution.steps[-1].action if n.resolution.steps else ''}")
            if not n.reaches:
                return ("DnsResolutionFailed", f"{n.fqdn} resolves to no address (NODATA): "
                                               f"{n.resolution.steps[-1].action if n.resolution.steps else ''}")
            for r in n.reaches:
                if not r.admitted:
                    return (r.code, r.reason)
        return None

    def to_dict(self) -> dict:
        c = self.cluster
        fail = self.failure
        return {"cluster": c.name, "id": c.id, "site": c.site.name if c.site else None, "address": c.address,
                "privateLinkState": c.spec.private_link_state, "scope": c.scope.name if c.scope else None,
                "admitted": self.admitted, "code": fail[0] if fail else "Admitted",
                "reason": fail[1] if fail else "", "onboarding": [h.to_dict() for h in self.onboarding],
                "names": [n.to_dict() for n in self.names]}


def cluster_trace(ix: Index, cluster: ClusterR) -> ClusterTrace:
    view = cluster_view(cluster)
    out = []
    for fqdn in agent_names(cluster.scope.location if cluster.scope else cluster.location):
        res = resolution(ix, view, fqdn)
        nt = NameTrace(fqdn, res)
        if res.rcode == "NOERROR":
            nt.reaches = [reach(ix, cluster, a, fqdn) for a in res.addresses]
        out.append(nt)
    return ClusterTrace(cluster, out, onboarding_hops(ix, cluster, path_resources(ix, out)))


def path_resources(ix: Index, names: list) -> list:
    """The private endpoints, their virtual networks and the private DNS zones the names went through."""
    found: list = []
    for n in names:
        for s in n.resolution.steps:
            if s.kind is StepKind.PRIVATE_ZONE and s.target:
                zone = ix.zone(s.target)
                if zone is not None:
                    found.append(zone)
        for r in n.reaches:
            hit = ix.endpoint_at(r.address) if r.endpoint else None
            if hit is not None:
                found += [hit[0], hit[0].vnet]
    return list(dict.fromkeys(found))


__all__ = ["ClusterTrace", "NameTrace", "OnboardingHop", "Reach", "path_resources", "agent_names", "cluster_trace", "cluster_view", "resolution",
           "site_resolution"]
