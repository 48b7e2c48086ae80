"""APL017 beyond its example cases: empty records in other zones are not its business."""

from __future__ import annotations

from rules_fixtures import edited, run_text


def test_apl017_ignores_other_zones():
    text = edited(("  - name: privatelink.monitor.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n",
                   "  - name: privatelink.monitor.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n"
                   "    records: [{name: api, addresses: []}]\n"))
    assert run_text(text, "APL017") == []
