"""A private endpoint in another region than its scope: its DNS configuration carries the scope's names.

The page lets the endpoint's VNet be in another region than the scope and its clusters; APL006
warns about it. The endpoint's records, what every site resolves and what lint reports must then
agree: the scope's regional names, private from every site, and only the warning.
"""

from __future__ import annotations

from arclink.model import catalogue as cat
from arclink.model import rules
from arclink.model.index import endpoint_service_region
from arclink.model.resolve import View, resolve

from model_fixtures import example

CROSS = "cross-region-endpoint.yaml"


def test_the_endpoint_carries_the_scope_regions_names():
    ix = example(CROSS)
    pe = next(iter(ix.endpoints.values()))
    assert (pe.location, pe.scope.location, endpoint_service_region(pe)) == ("westeurope", "northeurope", "northeurope")
    assert {r.record.fqdn for r in pe.records} == {r.fqdn for r in cat.arc_records("northeurope")}


def test_every_site_resolves_the_scope_regions_names_privately():
    ix = example(CROSS)
    pe = next(iter(ix.endpoints.values()))
    for site in ix.sites.values():
        for rec in cat.arc_records("northeurope"):
            r = resolve(ix, View("site", site.name), rec.fqdn)
            assert (r.rcode, r.addresses) == ("NOERROR", [pe.address_of(rec.fqdn)]), (site.name, rec.fqdn)


def test_the_cross_region_example_lints_with_only_the_apl006_warning():
    found = rules.run(example(CROSS))
    assert [(f.rule, f.severity, f.path) for f in found] == [("APL006", "warning", "$.privateEndpoints[0]")]
