"""Missed heartbeats make the connectedCluster Offline, as ARM shows it."""

from __future__ import annotations

import time

from arclink.agent.onboard import cluster_path
from arclink.cli.demo import CLUSTER_RG, apply_seed_steps, scope_id
from arclink.cli.main import main


def test_offline_after_missed_heartbeats(tmp_path, monkeypatch, capsys):
    from arclink.agent.arm_client import ArmClient, Endpoints
    from arclink.stack import start_services

    monkeypatch.setenv("ARCLINK_OFFLINE_AFTER", "0.5")
    svc = start_services(tmp_path, in_memory=True)
    arm = ArmClient(Endpoints.load(tmp_path / "endpoints.json"))
    try:
        apply_seed_steps(arm)
        ep = str(tmp_path / "endpoints.json")
        assert main(["connect", "-g", CLUSTER_RG, "-n", "c-off", "-l", "westeurope", "--site", "store-amsterdam",
                     "--enable-private-link", "true", "--pls-arm-id", scope_id(arm.subscription), "--yes",
                     "--key-type", "ec", "--no-agent", "--emulator", ep]) == 0
        # a running agent keeps it Connected...
        assert main(["agent", "run", "--cluster", "c-off", "--duration", "1.5", "--heartbeat", "0.1",
                     "--emulator", ep]) == 0
        assert "c-off: Connected via private endpoint" in capsys.readouterr().out
        path = cluster_path(arm.subscription, CLUSTER_RG, "c-off")
        # ...and once it stops, the status turns Offline with the reason
        deadline = time.monotonic() + 10
        props = {}
        while time.monotonic() < deadline:
            props = arm.get(path, "2024-01-01")["properties"]
            if props.get("connectivityStatus") == "Offline":
                break
            time.sleep(0.1)
        assert props["connectivityStatus"] == "Offline"
        assert props["arcAgentProfile"]["agentErrors"][0]["message"].startswith("HeartbeatMissed")
        assert props["lastConnectivityTime"]
    finally:
        arm.close()
        svc.stop()
