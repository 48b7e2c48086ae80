"""APL018 beyond its example cases: the group-id helper the emulator refuses with."""

from __future__ import annotations

from arclink.model.rules import apl018


def test_group_id_problem():
    arc = "Microsoft.HybridCompute/privateLinkScopes"
    assert apl018.group_id_problem(arc, ["hybridcompute"]) is None
    assert apl018.group_id_problem(arc.lower(), ["HybridCompute"]) is None
    assert "none is given" in apl018.group_id_problem(arc, [])
    assert "exactly one" in apl018.group_id_problem(arc, ["hybridcompute", "hybridcompute"])
    assert "'kubernetesConfiguration' is not a sub-resource" in apl018.group_id_problem(arc, ["kubernetesConfiguration"])
    assert apl018.group_id_problem("Microsoft.Insights/privateLinkScopes", ["azuremonitor"]) is None
    assert "belongs to Microsoft.HybridCompute" in apl018.group_id_problem("Microsoft.Insights/privateLinkScopes",
                                                                           ["hybridcompute"])
