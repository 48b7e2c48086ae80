"""``arclink explain`` never admits a cluster that ``arclink lint`` reports an error for.

Over every topology in examples/ and every rule case (fail.yaml and pass.yaml). A finding
*concerns* a cluster (``concerns``) when its ``resource`` is the cluster, the cluster's site, its
scope, a private endpoint its Arc names connect to, that endpoint's virtual network, a private
DNS zone that answered one of its names, or the cluster's subscription; or when its ``related``
names the cluster itself. (``related`` naming a site or scope is not enough: a finding about
site A's path names the scope that site B's clusters use too.) A rule in ``NARROWER`` says more
exactly which clusters its finding concerns (APL001's finding is on the virtual network, but ARM
refuses only the later scopes' endpoints in it). Rules in ``NOT_TRACED`` are left out, each with the
page's words on why no connection fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from model_fixtures import second_scope_lands

from arclink.model import rules
from arclink.model.errors import TopologyError
from arclink.model.index import ClusterR, Index, PeR
from arclink.model.loader import load
from arclink.model.trace import ClusterTrace, cluster_trace, path_resources

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "rules" / "cases"
TOPOLOGIES = (sorted((ROOT / "examples").rglob("*.yaml")) + sorted(CASES.glob("*/fail*.yaml"))
              + sorted(CASES.glob("*/pass.yaml")))

# Rules whose error findings explain does not trace as a hop, each with the page's words on why: the
# page states them as requirements, not as a connection that fails.
NOT_TRACED = {
    "APL007": "the page: 'During the preview, your virtual network and Azure Arc-enabled Kubernetes clusters must be "
              "in the same subscription as the Azure Arc Private Link Scope.' It names no failure; ARM and the CLI "
              "accept the writes, only the portal lists the scope's subscription alone",
    "APL003": "the page: 'All on-premises Kubernetes clusters need to use the same private endpoint by resolving the "
              "correct private endpoint information [...] using the same DNS forwarder.' It names no failure; each "
              "site's clusters still reach an endpoint of their scope",
}
# Rules whose findings on a site are not traced, while those on a cluster are.
NOT_TRACED_ON_SITE = {
    "APL010": "the page: 'Azure Arc resources utilizing Private Link and those that do not cannot share the same VNET "
              "or DNS zone. Azure Arc resources without Private Link must resolve to public endpoints.' What fails is "
              "the cluster without private link (its finding is on the cluster, and explain refuses it); the "
              "private-link cluster behind the shared DNS server still connects",
}


def traced(finding: rules.Finding) -> bool:
    if finding.rule in NOT_TRACED:
        return False
    return not (finding.rule in NOT_TRACED_ON_SITE and finding.resource.startswith("site:"))


def _refused_in_vnet(ix: Index, finding: rules.Finding, trace: ClusterTrace) -> bool:
    """APL001's finding is on the virtual network, but ARM refuses only the endpoints of the scopes after the
    first there: the finding concerns a cluster whose names connect to one of those."""
    vnet = ix.by_id.get(finding.resource.lower())
    arc = [pe for pe in getattr(vnet, "endpoints", []) if pe.is_arc and pe.scope is not None]
    first = arc[0].scope if arc else None
    return any(isinstance(r, PeR) and r.vnet is vnet and r.is_arc and r.scope is not first
               for r in path_resources(ix, trace.names))


# Rules whose finding sits on a resource that clusters share while harming only some of them.
NARROWER = {"APL001": _refused_in_vnet}


def refs(ix: Index, trace: ClusterTrace) -> set[str]:
    c = trace.cluster
    out = {c.id, f"/subscriptions/{c.subscription}"}
    if c.site is not None:
        out.add(f"site:{c.site.name}")
    if c.scope is not None:
        out.add(c.scope.id)
    out |= {r.id for r in path_resources(ix, trace.names)}
    return {x.lower() for x in out}


def concerns(finding: rules.Finding, cluster: ClusterR, refs_of_cluster: set[str]) -> bool:
    return finding.resource.lower() in refs_of_cluster or cluster.id.lower() in {r.lower() for r in finding.related}


def concerns_trace(ix: Index, finding: rules.Finding, trace: ClusterTrace) -> bool:
    narrower = NARROWER.get(finding.rule)
    if narrower is not None:
        return narrower(ix, finding, trace)
    return concerns(finding, trace.cluster, refs(ix, trace))


def _load(path: Path) -> Index | None:
    try:
        return load(path)
    except TopologyError:
        return None  # refused by the loader: neither lint nor explain gets further


def test_the_topologies_are_found_and_load():
    loaded = [p for p in TOPOLOGIES if _load(p) is not None]
    assert len(TOPOLOGIES) >= 50 and len(loaded) >= len(TOPOLOGIES) - 5


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_admitted_only_without_an_error_that_concerns_the_cluster(path):
    ix = _load(path)
    if ix is None:
        return
    errors = [f for f in rules.run(ix) if f.severity == "error" and traced(f)]
    for cluster in ix.clusters.values():
        trace = cluster_trace(ix, cluster)
        if not trace.admitted:
            continue
        against = [f"{f.rule}: {f.message}" for f in errors if concerns_trace(ix, f, trace)]
        assert not against, f"explain admits '{cluster.name}' but lint reports {against}"


def test_the_property_bites():
    """Without the onboarding hops the firewall example would be admitted with an APL008 error."""
    ix = load(ROOT / "examples" / "broken" / "firewall-missing-frontdoor.yaml")
    trace = cluster_trace(ix, ix.cluster("k3s-utrecht"))
    assert all(n.ok for n in trace.names)  # the private endpoint path alone is fine
    errors = [f for f in rules.run(ix) if f.severity == "error"]
    assert [f.rule for f in errors if concerns(f, trace.cluster, refs(ix, trace))] == ["APL008"]
    assert not trace.admitted


def test_the_apl001_finding_concerns_only_clusters_on_a_refused_endpoint():
    """The first scope's clusters in a shared VNet are not concerned (ARM keeps that endpoint); clusters
    whose names land on the second scope's endpoint are, and explain refuses them."""
    everyone = {"k3s-amsterdam", "k3s-rotterdam", "k3s-utrecht"}
    for ix, concerned in ((load(ROOT / "examples" / "broken" / "two-scopes-one-vnet.yaml"), set()),
                          (second_scope_lands(), everyone)):
        (apl001,) = [f for f in rules.run(ix) if f.rule == "APL001"]
        traces = [cluster_trace(ix, c) for c in ix.clusters.values()]
        assert {t.cluster.name for t in traces if concerns_trace(ix, apl001, t)} == concerned
        assert all(not t.admitted for t in traces if t.cluster.name in concerned)
