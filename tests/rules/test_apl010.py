"""APL010 beyond its example cases: sites sharing one DNS server, a non-private-link cluster answered NXDOMAIN."""

from __future__ import annotations

from rules_fixtures import good, run_doc, site


def test_apl010_sites_sharing_one_dns_server_with_both_kinds():
    doc = good()
    site(doc, "store-rotterdam")["dns"]["address"] = "192.168.10.53"  # amsterdam's server
    next(c for c in doc["clusters"] if c["name"] == "k3s-rotterdam").update(
        privateLinkState="Disabled", privateLinkScopeResourceId=None)
    found = run_doc(doc, "APL010")
    assert sorted(f.path for f in found) == ["$.sites[0]", "$.sites[1]"]


def test_apl010_non_private_link_cluster_whose_site_answers_nxdomain():
    doc = good()
    doc["sites"].append({"name": "store-depot", "addressSpace": ["192.168.90.0/24"],
                         "dns": {"address": "192.168.90.53", "zones": ["dp.kubernetesconfiguration.azure.com"]}})
    doc["clusters"].append({"name": "k3s-depot", "site": "store-depot", "privateLinkState": "Disabled"})
    found = run_doc(doc, "APL010")
    assert [f.path for f in found] == ["$.clusters[3]"]
    assert "does not resolve 'dp.kubernetesconfiguration.azure.com'" in found[0].message
