"""APL008 beyond its example cases: allow-all passes, a site without a firewall is not checked."""

from __future__ import annotations

from rules_fixtures import good, run_doc, site


def test_apl008_allow_all_passes_and_missing_firewall_is_not_checked():
    doc = good()
    site(doc, "store-amsterdam")["firewall"] = {"allowAll": True}
    del site(doc, "store-rotterdam")["firewall"]
    assert run_doc(doc, "APL008") == []


def test_apl008_is_silent_on_a_site_with_only_public_clusters():
    """The four tags and Front Door inbound are the private-link requirement, not the public one."""
    doc = good()
    site(doc, "store-utrecht")["firewall"] = {"outbound": ["AzureActiveDirectory"]}
    assert [f.resource for f in run_doc(doc, "APL008")] == ["site:store-utrecht"]
    for c in doc["clusters"]:
        if c["site"] == "store-utrecht":
            c["privateLinkState"] = "Disabled"
            c.pop("privateLinkScopeResourceId", None)
    assert run_doc(doc, "APL008") == []
