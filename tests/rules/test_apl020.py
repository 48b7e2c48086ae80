"""APL020 beyond its example cases: a warning with public access enabled, an error without a route."""

from __future__ import annotations

from rules_fixtures import ROTTERDAM_FORWARDERS, edited, run_text


def test_apl020_no_route_and_enabled_warning():
    text = edited(("    publicNetworkAccess: Disabled\n", "    publicNetworkAccess: Enabled\n"),
                  (ROTTERDAM_FORWARDERS, ROTTERDAM_FORWARDERS.replace("10.10.3.4", "8.8.8.8")))
    (f,) = run_text(text, "APL020")
    assert f.severity == "warning" and f.path == "$.privateLinkScopes[0]"
    assert "data may leave over public networks" in f.message and "'store-rotterdam'" in f.message

    text = edited(("connections: [{type: ExpressRoute, virtualNetwork: vnet-hub}]", "connections: []"))
    (f,) = run_text(text, "APL020")
    assert f.severity == "error" and f.path == "$.sites[0]"
    assert "no VPN or ExpressRoute path" in f.message and "publicNetworkAccess is Disabled" in f.message
