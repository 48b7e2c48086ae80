"""Connectivity written by the gateway reaches the durable store, without rebuilding the model."""

from __future__ import annotations

from arclink.agent.onboard import cluster_path
from arclink.cli import demo
from arclink.cli.main import main


def test_status_is_durable_and_not_a_model_change(tmp_path, capsys):
    from arclink.agent.arm_client import ArmClient, Endpoints
    from arclink.arm.store import Store
    from arclink.stack import start_services

    svc = start_services(tmp_path, in_memory=False)
    arm = ArmClient(Endpoints.load(tmp_path / "endpoints.json"))
    try:
        demo.apply_seed_steps(arm)
        ep = str(tmp_path / "endpoints.json")
        args = ["connect", "-g", demo.CLUSTER_RG, "-n", "c-dur", "-l", "westeurope", "--site", "store-amsterdam",
                "--enable-private-link", "true", "--pls-arm-id", demo.scope_id(arm.subscription), "--yes",
                "--key-type", "ec", "--no-agent", "--emulator", ep]
        assert main(args) == 0
        generation = svc.store.generation
        assert main(["agent", "run", "--cluster", "c-dur", "--once", "--emulator", ep]) == 0
        assert svc.store.generation == generation  # heartbeats are not model changes
        key = cluster_path(arm.subscription, demo.CLUSTER_RG, "c-dur")
        assert arm.get(key, "2024-01-01")["properties"]["connectivityStatus"] == "Connected"
    finally:
        arm.close()
        svc.stop()  # closing the store commits what is queued, status writes included
    store = Store(tmp_path / "arm.db")
    try:
        props = store.get_obj(key.lower())["properties"]
        assert props["connectivityStatus"] == "Connected" and props["lastConnectivityTime"]
    finally:
        store.close()
