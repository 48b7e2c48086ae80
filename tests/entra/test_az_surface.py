"""The ARM surface the real ``az`` showed missing, driven through ``az`` itself.

Each command here is one a user types: ``az resource list -g``, a private endpoint's NIC, the zone's
SOA record set, an Azure Monitor Private Link Scope, a VNet peering, a private endpoint to a
resource that does not exist. The same behaviours are tested through the SDKs in
``tests/arm/test_az_surface.py``; this proves that ``az``'s own requests and parsing agree. Every
request az makes goes to loopback; the recording proxy fails the test otherwise.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.entra.test_az_cli import _arclink, _env

pytestmark = pytest.mark.slow


@pytest.fixture
def az_run(emulator, az, refusing_proxy):
    env = _env(refusing_proxy)
    login = _arclink(["az-login", "--emulator", str(emulator.state_dir / "endpoints.json"), "--az", az], env)
    assert login.returncode == 0, login.stderr
    env.update(dict(line.removeprefix("export ").split("=", 1) for line in login.stdout.splitlines()))

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([az, *args, "--output", "json"], env=env, capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL)
        if ok:
            assert proc.returncode == 0, (args, proc.stderr)
        return proc

    yield run
    assert refusing_proxy.seen == [], refusing_proxy.seen


def _json(proc: subprocess.CompletedProcess):
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def test_az_builds_the_page_with_the_surface_it_needs(az_run, emulator):
    for ns in ("Microsoft.Network", "Microsoft.HybridCompute", "Microsoft.Insights"):
        az_run("provider", "register", "--namespace", ns, "--wait")
    az_run("group", "create", "-n", "rg-hub", "-l", "westeurope")
    az_run("group", "create", "-n", "rg-other", "-l", "westeurope")
    az_run("network", "vnet", "create", "-g", "rg-hub", "-n", "vnet-hub", "--address-prefixes", "10.10.0.0/16",
           "--subnet-name", "snet-pe", "--subnet-prefixes", "10.10.1.0/24")
    az_run("network", "vnet", "create", "-g", "rg-other", "-n", "vnet-spoke", "--address-prefixes", "10.20.0.0/16")
    scope = _json(az_run("resource", "create", "-g", "rg-hub", "-n", "pls-arc", "--resource-type",
                         "Microsoft.HybridCompute/privateLinkScopes", "-l", "westeurope", "--api-version",
                         "2024-07-10", "--properties", json.dumps({"publicNetworkAccess": "Disabled"})))

    # $filter: az resource list -g lists that group only (it used to list the whole subscription)
    hub = _json(az_run("resource", "list", "-g", "rg-hub"))
    assert {r["name"] for r in hub} == {"vnet-hub", "pls-arc"}
    # generic rows, as ARM lists them: no properties (az prints the model's empty field), and the
    # times az asks for with $expand
    assert all(r.get("properties") is None and r["createdTime"] for r in hub)
    by_type = _json(az_run("resource", "list", "--resource-type", "Microsoft.Network/virtualNetworks"))
    assert sorted(r["name"] for r in by_type) == ["vnet-hub", "vnet-spoke"]

    # the private endpoint and the network interface Azure makes for it
    pe = _json(az_run("network", "private-endpoint", "create", "-g", "rg-hub", "-n", "pe-arc", "--vnet-name",
                      "vnet-hub", "--subnet", "snet-pe", "--private-connection-resource-id", scope["id"],
                      "--group-id", "hybridcompute", "--connection-name", "pe-arc", "-l", "westeurope"))
    nic_id = pe["networkInterfaces"][0]["id"]
    nic = _json(az_run("network", "nic", "show", "--ids", nic_id))
    ips = [c["privateIPAddress"] for c in nic["ipConfigurations"]]
    assert ips and all(ip.startswith("10.10.1.") for ip in ips)
    assert {f for c in nic["ipConfigurations"] for f in c["privateLinkConnectionProperties"]["fqdns"]} \
        >= {"gbl.his.arc.azure.com"}

    # a private endpoint to a resource that does not exist is refused, as Azure refuses it
    missing = scope["id"].replace("pls-arc", "pls-nowhere")
    refused = az_run("network", "private-endpoint", "create", "-g", "rg-hub", "-n", "pe-nowhere", "--vnet-name",
                     "vnet-hub", "--subnet", "snet-pe", "--private-connection-resource-id", missing,
                     "--group-id", "hybridcompute", "--connection-name", "pe-nowhere", "-l", "westeurope", ok=False)
    assert refused.returncode != 0 and "InvalidResourceReference" in refused.stderr
    assert az_run("network", "private-endpoint", "show", "-g", "rg-hub", "-n", "pe-nowhere",
                  ok=False).returncode != 0

    # the zone's SOA record set exists from creation
    az_run("network", "private-dns", "zone", "create", "-g", "rg-hub", "-n", "privatelink.his.arc.azure.com")
    soa = _json(az_run("network", "private-dns", "record-set", "soa", "show", "-g", "rg-hub", "-z",
                       "privatelink.his.arc.azure.com"))
    assert soa["soaRecord"]["host"] == "azureprivatedns.net" and soa["soaRecord"]["minimumTtl"] == 10
    listed = _json(az_run("network", "private-dns", "record-set", "list", "-g", "rg-hub", "-z",
                          "privatelink.his.arc.azure.com"))
    assert [r["name"] for r in listed] == ["@"]

    # the Azure Monitor Private Link Scope of the page's Azure Monitor path
    ampls = _json(az_run("monitor", "private-link-scope", "create", "-g", "rg-hub", "-n", "ampls-arc"))
    assert ampls["name"] == "ampls-arc"
    assert _json(az_run("monitor", "private-link-scope", "show", "-g", "rg-hub", "-n", "ampls-arc"))["id"] == \
        ampls["id"]

    # VNet peerings as child resources, across resource groups
    spoke_id = _json(az_run("network", "vnet", "show", "-g", "rg-other", "-n", "vnet-spoke"))["id"]
    hub_id = _json(az_run("network", "vnet", "show", "-g", "rg-hub", "-n", "vnet-hub"))["id"]
    az_run("network", "vnet", "peering", "create", "-g", "rg-hub", "--vnet-name", "vnet-hub", "-n", "hub-to-spoke",
           "--remote-vnet", spoke_id, "--allow-vnet-access")
    assert _json(az_run("network", "vnet", "peering", "show", "-g", "rg-hub", "--vnet-name", "vnet-hub", "-n",
                        "hub-to-spoke"))["peeringState"] == "Initiated"
    az_run("network", "vnet", "peering", "create", "-g", "rg-other", "--vnet-name", "vnet-spoke", "-n",
           "spoke-to-hub", "--remote-vnet", hub_id, "--allow-vnet-access")
    both = _json(az_run("network", "vnet", "peering", "list", "-g", "rg-hub", "--vnet-name", "vnet-hub"))
    assert [(p["name"], p["peeringState"]) for p in both] == [("hub-to-spoke", "Connected")]
