"""APL024 beyond its example cases: sites with manual DNS need no zone links."""

from __future__ import annotations

from rules_fixtures import edited, run_text


def test_apl024_manual_dns_sites_are_exempt_from_links():
    text = edited(("  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-hub}]\n",
                   "  - name: privatelink.his.arc.azure.com\n    virtualNetworkLinks: [{virtualNetwork: vnet-other}]\n"),
                  ("virtualNetworks:\n", "virtualNetworks:\n  - name: vnet-other\n    addressSpace: [10.30.0.0/16]\n"))
    found = run_text(text, "APL024")
    assert [f.path for f in found] == ["$.privateDnsZones[0]"]
    assert "'vnet-hub'" in found[0].message and "sites 'store-amsterdam'" in found[0].message
    for site in ("192.168.10.53", "192.168.20.53", "192.168.30.53"):
        text = text.replace(f"      address: {site}\n", f"      address: {site}\n      zones: [his.arc.azure.com]\n")
    assert run_text(text, "APL024") == []
