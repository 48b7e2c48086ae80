"""APL015 beyond its example cases: a cluster that names no site."""

from __future__ import annotations

from rules_fixtures import edited, run_text


def test_apl015_cluster_without_site():
    found = run_text(edited(append="  - name: k3s-nowhere\n    privateLinkState: Enabled\n"
                              "    privateLinkScopeResourceId: pls-arc-retail\n"), "APL015")
    assert [f.path for f in found] == ["$.clusters[3]"]
    assert "names no site" in found[0].message
