"""APL023 beyond its example cases: a cluster of another scope names both scopes."""

from __future__ import annotations

from rules_fixtures import edited, run_text


def test_apl023_cluster_of_another_scope():
    text = edited(("privateLinkScopes:\n", "privateLinkScopes:\n  - name: pls-other\n"),
                  append="  - name: k3s-other\n    site: store-amsterdam\n    privateLinkState: Enabled\n"
                         "    privateLinkScopeResourceId: pls-other\n")
    (f,) = run_text(text, "APL023")
    assert f.path == "$.clusters[3]"
    assert "(ClusterNotAssociatedWithScope)" in f.message and "associated with 'pls-other'" in f.message
    assert "scope 'pls-arc-retail'" in f.message
