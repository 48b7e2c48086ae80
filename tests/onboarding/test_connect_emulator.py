"""``arclink connect`` / ``agent run`` / ``enable-features`` against a running emulator, end to end."""

from __future__ import annotations

import json
import os
import stat

import pytest

from arclink.agent import onboard
from arclink.agent.onboard import cluster_path, key_path
from arclink.cli.demo import CLUSTER_RG, scope_id
from arclink.cli.main import main

API = "2024-01-01"


def connect(emulator, name, *extra, address="192.168.10.20", site="store-amsterdam"):
    return main(["connect", "-g", CLUSTER_RG, "-n", name, "-l", "westeurope", "--site", site, "--address", address,
                 "--yes", "--key-type", "ec", "--emulator", emulator.endpoints_path, *extra])


def pl(emulator):
    return ["--enable-private-link", "true", "--pls-arm-id", scope_id(emulator.arm.subscription)]


def cluster(emulator, name):
    return emulator.arm.get(cluster_path(emulator.arm.subscription, CLUSTER_RG, name), API)


def test_connect_through_the_private_endpoint(emulator, capsys):
    assert connect(emulator, "c-ok", *pl(emulator), "-o", "json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["agent"]["status"] == "Connected" and out["agent"]["config"]["path"] == "private"
    props = cluster(emulator, "c-ok")["properties"]
    assert props["connectivityStatus"] == "Connected" and props["lastConnectivityTime"]
    assert props["privateLinkState"] == "Enabled"
    kp = key_path(emulator.state_dir, emulator.arm.subscription, CLUSTER_RG, "c-ok")
    assert stat.S_IMODE(os.stat(kp).st_mode) == 0o600
    # the PUT carried the public half of that key
    from arclink import pki
    assert props["agentPublicKeyCertificate"] == pki.public_key_b64(pki.load_private_key(kp))


def test_not_associated_is_refused_and_visible_on_the_cluster(emulator, capsys):
    assert connect(emulator, "c-stray", "--enable-private-link", "false", address="192.168.10.21") == 1
    err = capsys.readouterr().err
    assert "ClusterNotAssociatedWithScope" in err
    assert "must be associated with the Azure Arc Private Link Scope, or the connection will be refused" in err
    props = cluster(emulator, "c-stray")["properties"]
    assert props["connectivityStatus"] == "Connecting"
    assert props["arcAgentProfile"]["agentErrors"][0]["message"].startswith("ClusterNotAssociatedWithScope")


def test_public_dns_with_public_access_disabled(emulator, capsys):
    assert connect(emulator, "c-public", *pl(emulator), site="store-utrecht", address="192.168.30.20") == 1
    assert "PublicNetworkAccessDisabled" in capsys.readouterr().err


def test_disassociation_refuses_the_next_connection(emulator, capsys):
    assert connect(emulator, "c-rev", *pl(emulator), address="192.168.10.22") == 0
    assert cluster(emulator, "c-rev")["properties"]["connectivityStatus"] == "Connected"
    assert connect(emulator, "c-rev", "--enable-private-link", "false", address="192.168.10.22") == 1
    props = cluster(emulator, "c-rev")["properties"]
    assert props["connectivityStatus"] == "Offline"
    assert props["arcAgentProfile"]["agentErrors"][0]["message"].startswith("ClusterNotAssociatedWithScope")
    capsys.readouterr()


def test_location_scope_and_region_checks(emulator, capsys):
    assert connect(emulator, "c-x", *pl(emulator)[:2], "--pls-arm-id",
                   scope_id(emulator.arm.subscription).replace("pls-arc-demo", "pls-nowhere")) == 2
    err = capsys.readouterr().err
    assert "The private link scope resource '" in err and "does not exist. Please ensure that you pass a valid ARM " \
                                                          "Resource Id." in err
    code = main(["connect", "-g", CLUSTER_RG, "-n", "c-x", "-l", "eastus", "--site", "store-amsterdam", "--yes",
                 "--emulator", emulator.endpoints_path, *pl(emulator)])
    assert code == 2 and onboard.SCOPE_LOCATION_MISMATCH in capsys.readouterr().err
    code = main(["connect", "-g", CLUSTER_RG, "-n", "c-x", "-l", "japaneast", "--site", "store-amsterdam", "--yes",
                 "--emulator", emulator.endpoints_path])
    err = capsys.readouterr().err
    assert code == 2 and "Connected cluster resource creation is supported only in the following locations: " in err
    assert "Use the --location flag to specify one of these locations." in err


def test_provider_not_registered(emulator, capsys):
    sub = emulator.arm.subscription
    emulator.arm.post(f"/subscriptions/{sub}/providers/Microsoft.Kubernetes/unregister", "2022-09-01")
    try:
        assert connect(emulator, "c-y", *pl(emulator)) == 2
        assert onboard.PROVIDER_NOT_REGISTERED in capsys.readouterr().err
    finally:
        emulator.arm.post(f"/subscriptions/{sub}/providers/Microsoft.Kubernetes/register", "2022-09-01")


@pytest.mark.parametrize("features", [["cluster-connect"], ["custom-locations"], ["cluster-connect", "azure-rbac"]])
def test_cluster_connect_and_custom_locations_refused_on_private_link(emulator, capsys, features):
    assert connect(emulator, "c-feat", *pl(emulator), "--no-agent", address="192.168.10.23") == 0
    capsys.readouterr()
    code = main(["enable-features", "-g", CLUSTER_RG, "-n", "c-feat", "--features", *features,
                 "--emulator", emulator.endpoints_path])
    assert code == 2
    assert ("The features 'cluster-connect' and 'custom-locations' cannot be enabled for a private link enabled "
            "connected cluster.") in capsys.readouterr().err


def test_agent_run_pulls_an_extension_created_through_arm(emulator, capsys):
    assert connect(emulator, "c-flux", *pl(emulator), "--no-agent", address="192.168.10.24") == 0
    cid = cluster(emulator, "c-flux")["id"]
    emulator.arm.put(f"{cid}/providers/Microsoft.KubernetesConfiguration/extensions/flux", "2025-03-01",
                     {"properties": {"extensionType": "microsoft.flux", "configurationSettings": {"a": "b"}}})
    capsys.readouterr()
    assert main(["agent", "run", "--cluster", "c-flux", "--once", "-o", "json", "--emulator",
                 emulator.endpoints_path]) == 0
    rep = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rep["status"] == "Connected"
    assert rep["extensions"][0]["extensionType"] == "microsoft.flux"
    assert rep["extensions"][0]["configurationSettings"] == {"a": "b"}


def test_agent_run_for_an_unknown_cluster(emulator, capsys):
    assert main(["agent", "run", "--cluster", "nobody", "--once", "--emulator", emulator.endpoints_path]) == 2
    assert "no connected cluster named 'nobody'" in capsys.readouterr().err


def test_site_and_address_checks(emulator, capsys):
    code = main(["connect", "-g", CLUSTER_RG, "-n", "c-addr", "-l", "westeurope", "--site", "store-amsterdam", "--yes",
                 "--key-type", "ec", "--emulator", emulator.endpoints_path, *pl(emulator), "-o", "json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    address = out["tags"]["arclink-address"]
    assert address.startswith("192.168.10.") and out["agent"]["status"] == "Connected"
    assert connect(emulator, "c-addr2", *pl(emulator), address="10.99.0.1") == 2
    assert "--address 10.99.0.1 is outside site 'store-amsterdam'" in capsys.readouterr().err
    assert connect(emulator, "c-addr3", *pl(emulator), site="store-nowhere") == 2
    assert "site 'store-nowhere' does not exist" in capsys.readouterr().err


def test_azure_rbac_is_allowed_on_private_link(emulator, capsys):
    assert connect(emulator, "c-rbac", *pl(emulator), "--no-agent", address="192.168.10.25") == 0
    assert main(["enable-features", "-g", CLUSTER_RG, "-n", "c-rbac", "--features", "azure-rbac",
                 "--emulator", emulator.endpoints_path]) == 0
    assert cluster(emulator, "c-rbac")["properties"]["aadProfile"]["enableAzureRBAC"] is True


def test_cluster_connect_allowed_without_private_link(emulator, capsys):
    assert connect(emulator, "c-plain", "--no-agent", address="192.168.10.26") == 0
    assert main(["enable-features", "-g", CLUSTER_RG, "-n", "c-plain", "--features", "cluster-connect",
                 "--emulator", emulator.endpoints_path]) == 0
    features = [c["feature"] for c in cluster(emulator, "c-plain")["properties"]["arcAgentryConfigurations"]]
    assert features == ["cluster-connect"]


def test_public_network_access_change_through_arm_applies_to_the_next_connection(emulator, capsys):
    path = scope_id(emulator.arm.subscription)
    scope = emulator.arm.get(path, "2025-01-13")

    def set_access(value):
        emulator.arm.put(path, "2025-01-13", {"location": scope["location"], "tags": scope.get("tags") or {},
                                              "properties": {"publicNetworkAccess": value}})
    set_access("Enabled")
    try:
        assert connect(emulator, "c-pub2", *pl(emulator), "-o", "json", site="store-utrecht",
                       address="192.168.30.21") == 0
        out = json.loads(capsys.readouterr().out)
        assert out["agent"]["config"]["path"] == "public"
    finally:
        set_access("Disabled")
    assert connect(emulator, "c-pub2", *pl(emulator), site="store-utrecht", address="192.168.30.21") == 1
    assert "PublicNetworkAccessDisabled" in capsys.readouterr().err


def test_connect_follow_keeps_the_agent_running_until_sigterm(emulator, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    log = tmp_path / "follow.out"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "arclink", "connect", "-g", CLUSTER_RG, "-n", "c-follow", "-l",
                                 "westeurope", "--site", "store-amsterdam", "--address", "192.168.10.27", "--yes",
                                 "--key-type", "ec", "--emulator", emulator.endpoints_path, *pl(emulator), "--follow"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        # the first line comes from connect's own run, the second from the agent that keeps running
        while time.monotonic() < deadline and proc.poll() is None:
            if "c-follow: Connected via private endpoint" in log.read_text():
                break
            time.sleep(0.1)
        assert proc.poll() is None  # still running
        assert cluster(emulator, "c-follow")["properties"]["connectivityStatus"] == "Connected"
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    finally:
        proc.kill()
    assert proc.returncode == 0, log.read_text()


def _exists(emulator, name) -> bool:
    from arclink.agent.arm_client import ArmRequestError

    try:
        cluster(emulator, name)
        return True
    except ArmRequestError:
        return False
