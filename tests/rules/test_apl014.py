"""APL014 beyond its example cases: provider names compared without case; silent without declared subscriptions."""

from __future__ import annotations

from arclink.model.rules import apl014

from rules_fixtures import GOOD_TEXT, run_text


def test_missing_providers_ignores_case():
    assert apl014.missing_providers(["microsoft.kubernetes", "MICROSOFT.KUBERNETESCONFIGURATION"]) == []
    assert apl014.missing_providers(["Microsoft.kubernetes.Configurations"]) == ["Microsoft.Kubernetes",
                                                                                  "Microsoft.KubernetesConfiguration"]


def test_apl014_silent_without_declared_subscriptions():
    text = GOOD_TEXT.split("subscriptions:\n", 1)[0] + "resourceGroups:\n" + GOOD_TEXT.split("\nresourceGroups:\n", 1)[1]
    assert run_text(text, "APL014") == []


def test_apl014_reports_a_scope_subscription_without_hybrid_compute():
    text = GOOD_TEXT.replace("      - Microsoft.HybridCompute\n", "", 1)
    found = run_text(text, "APL014")
    assert [f.path for f in found] == ["$.privateLinkScopes[0]"]
    assert "Microsoft.HybridCompute" in found[0].message
