"""The onboarding hops of a trace: tools, registrations, region, site firewall; decided as the rules decide."""

from __future__ import annotations

import json

from model_fixtures import EXAMPLES, GOOD_TEXT, example, variant

from arclink.cli.main import main
from arclink.model import rules
from arclink.model.loader import loads
from arclink.model.trace import cluster_trace


def _verdicts(ix):
    return {c.name: cluster_trace(ix, c).to_dict()["code"] for c in ix.clusters.values()}


def test_a_firewall_without_front_door_refuses_its_cluster():
    ix = example("broken/firewall-missing-frontdoor.yaml")
    assert _verdicts(ix) == {"k3s-amsterdam": "Admitted", "k3s-rotterdam": "Admitted",
                             "k3s-utrecht": "BlockedByFirewall"}
    hops = cluster_trace(ix, ix.cluster("k3s-utrecht")).to_dict()["onboarding"]
    failed = [h["what"] for h in hops if not h["ok"]]
    assert failed == ["site firewall: outbound TCP 443 to AzureFrontDoor.FirstParty",
                      "site firewall: inbound TCP 443 from AzureFrontDoor.FirstParty"]
    assert {h["what"] for h in hops if h["ok"]} >= {"site firewall: outbound TCP 443 to AzureActiveDirectory",
                                                     "region", "provider registration", "onboarding tools"}


def test_explain_json_counts_the_refused_cluster(capsys):
    assert main(["explain", str(EXAMPLES / "broken/firewall-missing-frontdoor.yaml"), "--output", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"clusters": 3, "admitted": 2, "refused": 1}
    utrecht = next(c for c in doc["clusters"] if c["cluster"] == "k3s-utrecht")
    assert utrecht["admitted"] is False and utrecht["code"] == "BlockedByFirewall"


def test_explain_json_is_written_as_one_formatted_document(capsys):
    """Written one cluster at a time, the output is byte for byte the whole document formatted at once."""
    from arclink.lint.json_output import dumps

    for name, only in (("good.yaml", []), ("broken/two-scopes-one-vnet.yaml", []),
                       ("good.yaml", ["--cluster", "k3s-utrecht"])):
        path = str(EXAMPLES / name)
        assert main(["explain", path, "--output", "json", *only]) == 0
        out = capsys.readouterr().out
        ix = example(name)
        traces = [cluster_trace(ix, c) for c in ix.clusters.values() if not only or c.name == only[1]]
        admitted = sum(1 for t in traces if t.admitted)
        assert out == dumps({"file": path, "clusters": [t.to_dict() for t in traces],
                             "summary": {"clusters": len(traces), "admitted": admitted,
                                         "refused": len(traces) - admitted}})


def test_a_cluster_where_private_link_is_unavailable_is_refused():
    ix = loads(GOOD_TEXT.replace("location: westeurope", "location: southeastasia"))
    codes = set(_verdicts(ix).values())
    assert codes == {"LocationNotAvailableForResourceType"}
    assert any(f.rule == "APL021" for f in rules.run(ix))


def test_a_scope_subscription_without_hybrid_compute_is_refused_by_both():
    ix = variant(("      - Microsoft.HybridCompute\n", ""))
    found = [f for f in rules.run(ix, only=["APL014"])]
    assert found and "Microsoft.HybridCompute" in found[0].message
    assert set(_verdicts(ix).values()) == {"MissingSubscriptionRegistration"}


def test_old_onboarding_tools_refuse_the_cluster():
    ix = variant(("azureCli: 2.70.0", "azureCli: 2.29.0"))
    assert "UnsupportedCliVersion" in _verdicts(ix).values()


def test_the_good_example_is_admitted_with_every_hop_ok():
    ix = example()
    for c in ix.clusters.values():
        t = cluster_trace(ix, c)
        assert t.admitted and t.onboarding and all(h.ok for h in t.onboarding)
