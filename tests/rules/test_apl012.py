"""APL012 beyond its example cases: the feature and extension helpers the emulator refuses with."""

from __future__ import annotations

from arclink.model.rules import apl012


def test_feature_and_extension_helpers():
    cli = "The features 'cluster-connect' and 'custom-locations' cannot be enabled for a private link enabled connected cluster."
    assert apl012.feature_error("Enabled", ["cluster-connect"]) == cli
    assert apl012.feature_error("enabled", ["Custom-Locations"]) == cli
    assert apl012.feature_error("Enabled", ["azure-rbac"]) is None
    assert apl012.feature_error("Disabled", ["cluster-connect"]) is None
    assert "Container Apps" in apl012.extension_error("Enabled", "Microsoft.App.Environment")
    assert apl012.extension_error("Enabled", "microsoft.flux") is None
    assert apl012.extension_error(None, "microsoft.arcdataservices") is None
