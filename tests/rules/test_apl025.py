"""APL025 beyond its example cases: a wrong address in a zone names record and expected address."""

from __future__ import annotations

from rules_fixtures import edited, run_text


def test_apl025_wrong_address_in_zone():
    text = edited(("  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n",
                   "  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n"
                   "    records: [{name: weu, addresses: [10.10.1.99]}]\n"),
                  ("      - privatelink.his.arc.azure.com\n      - privatelink.guestconfiguration.azure.com\n",
                   "      - privatelink.guestconfiguration.azure.com\n"))
    (f,) = run_text(text, "APL025")
    assert f.path == "$.privateEndpoints[0]"
    assert "gbl.his.arc.azure.com (A 10.10.1.4 as 'gbl' in privatelink.his.arc.azure.com)" in f.message
    assert "'weu' in privatelink.his.arc.azure.com has 10.10.1.99, not 10.10.1.5" in f.message
