"""``arclink explain`` never admits a cluster that ``arclink lint`` reports an error for.

Over every topology in examples/ and every rule case (fail.yaml and pass.yaml). A finding
*concerns* a cluster (``concerns``) when its ``resource`` is the cluster, the cluster's site, its
scope, a private endpoint its Arc names connect to, that endpoint's virtual network, a private
DNS zone that answered one of its names, or the cluster's subscription; or when its ``related``
names the cluster itself. (``related`` naming a site or scope is not enough: a finding about
site A's path names the scope that site B's clusters use too.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from arclink.model import rules
from arclink.model.errors import TopologyError
from arclink.model.index import ClusterR, Index
from arclink.model.loader import load
from arclink.model.trace import ClusterTrace, cluster_trace, path_resources

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "rules" / "cases"
TOPOLOGIES = (sorted((ROOT / "examples").rglob("*.yaml")) + sorted(CASES.glob("*/fail*.yaml"))
              + sorted(CASES.glob("*/pass.yaml")))

# Rules whose error findings explain does not trace as a hop, each with the reason.
NOT_TRACED = {
    # ARM refuses these writes, but explain does not trace them yet: their findings are on the
    # virtual network / endpoint / cluster features, not on a hop of the onboarding path.
    "APL001": "a second scope's endpoint in the VNet is refused at write time; the first endpoint still answers",
    "APL012": "unsupported features (Cluster Connect, custom locations, ...) fail after onboarding, not on its path",
    "APL018": "a wrong group id is refused at write time; the modelled records still answer",
    "APL005": "an endpoint in another region than its VNet is refused at write time; the modelled records still answer",
    # Requirements of the page that do not break the modelled connection itself.
    "APL007": "the preview's same-subscription requirement is not checked by any hop of the path",
    "APL010": "a DNS server shared with public clusters breaks those clusters, not the private-link one admitted",
    "APL003": "clusters of one scope using different forwarders each still reach the endpoint",
}


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
    errors = [f for f in rules.run(ix) if f.severity == "error" and f.rule not in NOT_TRACED]
    for cluster in ix.clusters.values():
        trace = cluster_trace(ix, cluster)
        if not trace.admitted:
            continue
        mine = refs(ix, trace)
        against = [f"{f.rule}: {f.message}" for f in errors if concerns(f, cluster, mine)]
        assert not against, f"explain admits '{cluster.name}' but lint reports {against}"


def test_the_property_bites():
    """Without the onboarding hops the firewall example would be admitted with an APL008 error."""
    ix = load(ROOT / "examples" / "broken" / "firewall-missing-frontdoor.yaml")
    trace = cluster_trace(ix, ix.cluster("k3s-utrecht"))
    assert all(n.ok for n in trace.names)  # the private endpoint path alone is fine
    errors = [f for f in rules.run(ix) if f.severity == "error"]
    assert [f.rule for f in errors if concerns(f, trace.cluster, refs(ix, trace))] == ["APL008"]
    assert not trace.admitted
