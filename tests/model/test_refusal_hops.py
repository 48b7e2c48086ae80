"""Writes ARM refuses are hops of explain's path: the private endpoint the names connect to must exist
(APL018, APL005, APL001) and a private-link cluster's features and extensions must be supported
(APL012). Each is decided by the helper the rule and the emulator's refusal call."""

from __future__ import annotations

import json

import pytest
from model_fixtures import EXAMPLES, ROOT, example, second_scope_lands, variant

from arclink.cli.main import main
from arclink.model import rules
from arclink.model.loader import load
from arclink.model.rules import apl001, apl005, apl012, apl018
from arclink.model.trace import cluster_trace

CASES = ROOT / "tests" / "rules" / "cases"


def _failed(trace) -> list[dict]:
    return [h for h in trace.to_dict()["onboarding"] if not h["ok"]]


@pytest.mark.parametrize("rule", [apl005, apl018, apl012], ids=lambda m: m.RULE.id)
def test_each_refused_write_refuses_the_clusters_behind_it_with_the_rules_code(rule):
    ix = load(CASES / rule.RULE.id / "fail.yaml")
    found = [f for f in rules.run(ix, only=[rule.RULE.id]) if f.severity == "error"]
    assert found
    refused = [t for t in (cluster_trace(ix, c) for c in ix.clusters.values()) if not t.admitted]
    assert refused
    for t in refused:
        failed = _failed(t)
        assert [h["code"] for h in failed] == [rule.RULE.arm_code]
        assert set(failed[0]) == {"what", "ok", "detail", "code"} and f"({rule.RULE.id})" in failed[0]["detail"]
        assert t.failure is not None and t.failure[0] == rule.RULE.arm_code
        assert all(n.ok for n in t.names)  # the names alone would have been admitted


def test_an_endpoint_in_another_region_than_its_vnet_fails_its_hop_with_arms_message():
    ix = load(CASES / "APL005" / "fail.yaml")
    pe = next(p for p in ix.endpoints.values() if apl005.pe_region_mismatch(p.location, p.vnet.location))
    hop = next(h for h in _failed(cluster_trace(ix, next(iter(ix.clusters_in(pe.scope))))))
    assert hop["what"] == f"private endpoint '{pe.name}' exists"
    assert pe.subnet.id in hop["detail"] and pe.id in hop["detail"]  # the emulator's InvalidResourceReference text


def test_a_second_scopes_endpoint_in_the_vnet_refuses_the_clusters_that_land_on_it():
    """The names of scope 'pls-arc-retail-eu2' land on its endpoint in vnet-hub, which already has
    'pls-arc-retail': ARM refuses that endpoint, so its cluster is refused with APL001's code."""
    ix = second_scope_lands()
    amsterdam = cluster_trace(ix, ix.cluster("k3s-amsterdam"))
    assert all(n.ok for n in amsterdam.names)  # the endpoint answers and admits it: only ARM's refusal stops it
    assert amsterdam.failure is not None and amsterdam.failure[0] == apl001.RULE.arm_code
    hop = _failed(amsterdam)[0]
    assert hop["what"] == "private endpoint 'pe-arc-retail-eu2' exists"
    assert "'pls-arc-retail'" in hop["detail"] and "(APL001)" in hop["detail"]


def test_the_first_scopes_endpoint_in_a_shared_vnet_exists():
    """ARM keeps the scope that came first: its clusters are admitted, as the rule's fix says."""
    ix = example("broken/two-scopes-one-vnet.yaml")
    assert any(f.rule == "APL001" for f in rules.run(ix))
    for c in ix.clusters.values():
        t = cluster_trace(ix, c)
        assert t.admitted
        hop = next(h for h in t.onboarding if h.what == "private endpoint 'pe-arc-retail' exists")
        assert hop.ok and "'pls-arc-retail'" in hop.detail


def test_association_problem_spares_more_endpoints_of_the_first_scope():
    ix = example("broken/two-scopes-one-vnet.yaml")
    problems = {pe.name: apl001.association_problem(pe) for pe in ix.endpoints.values()}
    assert problems["pe-arc-retail"] is None and problems["pe-ampls-retail"] is None
    assert "already associated with the Azure Arc Private Link Scope 'pls-arc-retail'" in problems["pe-arc-retail-eu2"]


def test_unsupported_features_refuse_the_cluster_in_explain_json(capsys):
    assert main(["explain", str(EXAMPLES / "broken/cluster-connect-enabled.yaml"), "--output", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    codes = {c["cluster"]: c["code"] for c in doc["clusters"]}
    assert codes["k3s-rotterdam"] == apl012.RULE.arm_code
    hop = next(h for c in doc["clusters"] if c["cluster"] == "k3s-rotterdam" for h in c["onboarding"]
               if h["what"] == "cluster features and extensions")
    assert hop["ok"] is False and apl012.CLI_FEATURES_MESSAGE.rstrip(".") in hop["detail"]


def test_features_on_a_cluster_without_private_link_are_no_hop():
    ix = variant(("privateLinkState: Enabled", "privateLinkState: Disabled"),
                 ("extensions: [microsoft.flux", "features: [cluster-connect]\n    extensions: [microsoft.flux"))
    c = next(c for c in ix.clusters.values() if c.spec.features)
    assert not c.private_link
    assert all(h.what != "cluster features and extensions" for h in cluster_trace(ix, c).onboarding)


def test_a_group_id_problem_is_the_emulators_message():
    ix = load(CASES / "APL018" / "fail.yaml")
    pe = next(p for p in ix.endpoints.values() if apl018.group_id_problem(p.target_type, p.spec.group_ids))
    t = cluster_trace(ix, next(iter(ix.clusters_in(pe.scope))))
    assert apl018.group_id_problem(pe.target_type, pe.spec.group_ids).rstrip(".") in _failed(t)[0]["detail"]


def test_every_hop_of_the_good_example_is_ok_and_names_its_endpoint():
    ix = example()
    for c in ix.clusters.values():
        hops = cluster_trace(ix, c).onboarding
        assert all(h.ok for h in hops)
        assert "private endpoint 'pe-arc-retail' exists" in [h.what for h in hops]
