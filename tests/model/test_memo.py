"""Index.memo and the cached tables: computed once per index, never shared between indexes."""

from __future__ import annotations

from arclink.model.loader import loads
from arclink.model.resolve import View
from arclink.model.trace import resolution

TOPOLOGY = """
virtualNetworks:
  - name: vnet-hub
    addressSpace: [10.10.0.0/16]
    subnets: [{name: snet-endpoints, addressPrefix: 10.10.1.0/24}]
privateLinkScopes:
  - name: pls-arc
privateEndpoints:
  - {name: pe-arc, subnet: vnet-hub/snet-endpoints, privateLinkServiceId: pls-arc}
sites:
  - name: site-a
    addressSpace: [192.168.10.0/24]
    dns: {address: 192.168.10.53}
"""


def test_memo_computes_once_per_key():
    ix = loads(TOPOLOGY)
    calls = []

    def compute():
        calls.append(1)
        return object()

    first = ix.memo(("test", "x"), compute)
    assert ix.memo(("test", "x"), compute) is first
    assert ix.memo(("test", "y"), compute) is not first
    assert len(calls) == 2


def test_memo_keeps_a_falsy_answer():
    ix = loads(TOPOLOGY)
    calls = []
    for _ in range(3):
        assert ix.memo(("test", "empty"), lambda: calls.append(1) or set()) == set()
    assert len(calls) == 1


def test_memo_is_not_shared_between_indexes():
    a, b = loads(TOPOLOGY), loads(TOPOLOGY)
    assert a.memo(("test", "x"), lambda: "a") == "a"
    assert b.memo(("test", "x"), lambda: "b") == "b"


def test_resolution_is_memoised_per_site_and_name_not_per_client_address():
    ix = loads(TOPOLOGY)
    one = resolution(ix, View("site", "site-a", "192.168.10.11"), "gbl.his.arc.azure.com")
    assert resolution(ix, View("site", "SITE-A", "192.168.10.12"), "gbl.his.arc.azure.com") is one
    assert resolution(ix, View("site", "site-a"), "agentserviceapi.guestconfiguration.azure.com") is not one
    assert resolution(loads(TOPOLOGY), View("site", "site-a"), "gbl.his.arc.azure.com") is not one


def test_endpoint_table_and_owners_are_built_once():
    ix = loads(TOPOLOGY)
    address = ix.endpoints["pe-arc"].records[0].address
    hit = ix.endpoint_at(address)
    assert hit is not None and hit[0].name == "pe-arc"
    assert ix.endpoint_at("10.10.1.250") is None
    assert ix.owners() is ix.owners()
    assert ix.locate("192.168.10.7") is ix.site("site-a")
    assert ix.locate("10.10.1.9") is ix.vnet("vnet-hub")
    assert ix.locate("8.8.8.8") is None
