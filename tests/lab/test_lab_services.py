"""The lab's public services and filters with real packets, on one lab built from ``examples/good.yaml``
with two changes: the endpoints' subnet applies its NSG to private endpoints (network policies
Enabled), and store-rotterdam's firewall lacks AzureResourceManager.

- ``arclink agent run --lab`` asks ARM from the site: from the cluster's address, through the
  site's DNS and firewall; without the firewall's ARM rule the call times out.
- The NSG's outbound and inbound rules by service tag drop or pass real packets.
- MCR (behind Front Door) answers the registry API over HTTPS with the emulator's CA.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from arclink.model import catalogue as cat
from arclink.model.resolve import public_lookup

from .conftest import REPO, RUN_DIR, arclink, start_lab, stop_lab

SUB = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"
SCOPE = f"/subscriptions/{SUB}/resourceGroups/rg-arc-hub/providers/Microsoft.HybridCompute/privateLinkScopes/pls-arc-retail"
ARM = cat.public_address("management.azure.com")
MCR = cat.public_address("mcr.microsoft.com")
PE = "10.10.1.4"  # the scope's private endpoint's first address (the NSG's subnet)


@pytest.fixture(scope="module")
def lab(lab_capable, tmp_path_factory):
    doc = yaml.safe_load((REPO / "examples/good.yaml").read_text())
    for vnet in doc["virtualNetworks"]:
        for subnet in vnet["subnets"]:
            if subnet["name"] == "snet-endpoints":
                subnet["privateEndpointNetworkPolicies"] = "Enabled"
    for site in doc["sites"]:
        if site["name"] == "store-rotterdam":
            site["firewall"]["outbound"].remove(cat.TAG_ARM)
    tmp = tmp_path_factory.mktemp("services")
    path = tmp / "topology.yaml"
    path.write_text(yaml.safe_dump(doc))
    running = start_lab(str(path), tmp_path=tmp)
    yield running
    stop_lab(running)


def _ns(lab, kind: str, name: str = "") -> str:
    return f"arclink-{lab.name}-{kind}-{name}" if name else f"arclink-{lab.name}-{kind}"


def _connect(lab, cluster: str, site: str, address: str, *where: str) -> subprocess.CompletedProcess:
    return arclink("connect", "--subscription", SUB, "-g", "rg-arc-clusters", "-n", cluster, "-l", "westeurope",
                   "--site", site, "--address", address, "-y", "-o", "json", "--enable-private-link", "true",
                   "--private-link-scope-resource-id", SCOPE, *where, timeout=120)


def _count_to(ns: str, address: str) -> None:
    """A counter of TCP 443 packets leaving ``ns`` for ``address`` (before the lab's firewall sees them)."""
    rules = "\n".join(["table inet arclink_test {", "  chain out {",
                       "    type filter hook output priority -10; policy accept;",
                       f"    ip daddr {address} tcp dport 443 counter", "  }", "}", ""])
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules, text=True, check=True)


def _counted(ns: str) -> int:
    listed = subprocess.run(["ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", "arclink_test"],
                            capture_output=True, text=True, check=True).stdout
    return sum(e["counter"]["packets"] for item in json.loads(listed)["nftables"] if "rule" in item
               for e in item["rule"]["expr"] if "counter" in e)


def _curl(ns: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, "curl", "-sS", "-o", "/dev/null", "--connect-timeout", "2",
                           "-w", "%{http_code}", *args], capture_output=True, text=True, timeout=30)


def test_agent_run_asks_arm_from_the_site_and_a_firewall_without_arm_times_it_out(lab):
    # Amsterdam's firewall allows ARM: onboarded from the site, the agent's run starts there too
    onboarded = _connect(lab, "k3s-amsterdam", "store-amsterdam", "192.168.10.10", "--lab", lab.name)
    assert onboarded.returncode == 0, onboarded.stderr
    amsterdam = _ns(lab, "site", "store-amsterdam")
    _count_to(amsterdam, ARM)
    run = arclink("agent", "run", "-n", "k3s-amsterdam", "--once", "--lab", lab.name, "-o", "json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.splitlines()[-1])
    assert report["status"] == "Connected" and report["config"]["address"] == "10.10.1.9"
    assert _counted(amsterdam) > 0  # agent run's ARM calls left the site for ARM's public address

    # Rotterdam's firewall lacks AzureResourceManager: onboarded on loopback, its agent in the lab
    # cannot reach ARM: the packets leave the cluster and the site's firewall drops them
    assert _connect(lab, "k3s-rotterdam", "store-rotterdam", "192.168.20.10", "--lab", lab.name).returncode == 2
    onboarded = _connect(lab, "k3s-rotterdam", "store-rotterdam", "192.168.20.10",
                         "--emulator", str(RUN_DIR / lab.name / "emulator" / "endpoints.json"))
    assert onboarded.returncode == 0, onboarded.stderr
    assert json.loads(onboarded.stdout)["agent"]["status"] == "Connected"  # emulator mode asks on loopback
    rotterdam = _ns(lab, "site", "store-rotterdam")
    _count_to(rotterdam, ARM)
    run = arclink("agent", "run", "-n", "k3s-rotterdam", "--once", "--lab", lab.name, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "management.azure.com does not answer (timed out)" in run.stderr
    assert "AzureResourceManager" in run.stderr
    assert _counted(rotterdam) >= 2  # one SYN per attempt, at least; none answered

    never = arclink("agent", "run", "-n", "k3s-utrecht", "--once", "--lab", lab.name)
    assert never.returncode == 2 and "was not onboarded in lab" in never.stderr


def test_nsg_rules_by_service_tag_drop_and_pass_real_packets_both_ways(lab):
    vnet, internet = _ns(lab, "vnet", "vnet-hub"), _ns(lab, "internet")
    arc_public = public_lookup("gbl.privatelink.his.arc.azure.com")[1]
    # outbound from the endpoint's address: AllowAzOutboundAccess (AzureResourceManager) passes ...
    to_arm = _curl(vnet, "--interface", PE, "-k", f"https://{ARM}/")
    assert to_arm.returncode == 0 and to_arm.stdout == "401", to_arm.stderr  # ARM answered: no token
    # ... and DenyInternetOutbound drops what no tag rule allows (the public Arc endpoint)
    assert _curl(vnet, "--interface", PE, "-k", f"https://{arc_public}/").returncode == 28
    # inbound to the endpoint: AllowAzureFrontDoorFirstPartyInbound lets Front Door's address connect ...
    from_frontdoor = _curl(internet, "--interface", MCR, "-k", f"https://{PE}/")
    assert from_frontdoor.returncode not in (7, 28), from_frontdoor.stderr  # connected (the gateway's protocol)
    # ... and DenyAllInBound drops ARM's
    assert _curl(internet, "--interface", ARM, "-k", f"https://{PE}/").returncode == 28


def test_mcr_answers_the_registry_api_over_https_from_a_site(lab):
    ca = str(RUN_DIR / lab.name / "emulator" / "ca.pem")
    got = lab.exec("store-amsterdam", "curl", "-sS", "-v", "--connect-timeout", "2", "--cacert", ca,
                   "https://mcr.microsoft.com/v2/")
    assert got.returncode == 0, got.stderr
    assert f"Trying {MCR}:443" in got.stderr and "SSL certificate verify ok" in got.stderr
    assert "< HTTP/1.1 200 OK" in got.stderr
    assert "< Docker-Distribution-Api-Version: registry/2.0" in got.stderr
    missing = lab.exec("store-amsterdam", "curl", "-sS", "--cacert", ca, "-w", " %{http_code}",
                       "https://westeurope.data.mcr.microsoft.com/v2/nosuch/manifests/latest")
    body, _, status = missing.stdout.rpartition(" ")
    assert status == "404" and json.loads(body)["errors"][0]["code"] == "NAME_UNKNOWN"
