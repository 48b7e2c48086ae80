"""APL003 beyond its example cases: a site split over two forwarders, the majority counted by clusters."""

from __future__ import annotations

import copy

from rules_fixtures import good, run_doc, site


def _with_vm_forwarder(doc):
    doc["dnsForwarders"].append({"name": "vm-dns-hub", "kind": "vm", "virtualNetwork": "vnet-hub",
                                 "ipAddress": "10.10.3.5"})


def test_apl003_site_splitting_its_names_over_two_forwarders_is_reported_even_alone():
    doc = good()
    _with_vm_forwarder(doc)
    doc["clusters"] = doc["clusters"][:1]
    cf = site(doc, "store-amsterdam")["dns"]["conditionalForwarders"]
    cf[2]["targets"] = ["10.10.3.5"]  # dp goes to the VM, his and guestconfiguration to the resolver
    found = run_doc(doc, "APL003")
    assert [f.path for f in found] == ["$.sites[0]"]
    assert "'dnspr-hub-inbound'" in found[0].message and "'vm-dns-hub'" in found[0].message


def test_apl003_majority_is_by_clusters_not_sites():
    doc = good()
    _with_vm_forwarder(doc)
    # utrecht uses the VM but carries three clusters; amsterdam and rotterdam one each
    for cf in site(doc, "store-utrecht")["dns"]["conditionalForwarders"]:
        cf["targets"] = ["10.10.3.5"]
    base = next(c for c in doc["clusters"] if c["name"] == "k3s-utrecht")
    for n in (2, 3):
        doc["clusters"].append({**copy.deepcopy(base), "name": f"k3s-utrecht-{n}"})
    assert sorted(f.path for f in run_doc(doc, "APL003")) == ["$.sites[0]", "$.sites[1]"]
