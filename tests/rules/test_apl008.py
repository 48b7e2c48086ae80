"""APL008 beyond its example cases: allow-all passes, a site without a firewall is not checked."""

from __future__ import annotations

from rules_fixtures import good, run_doc, site


def test_apl008_allow_all_passes_and_missing_firewall_is_not_checked():
    doc = good()
    site(doc, "store-amsterdam")["firewall"] = {"allowAll": True}
    del site(doc, "store-rotterdam")["firewall"]
    assert run_doc(doc, "APL008") == []
