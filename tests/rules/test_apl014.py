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
