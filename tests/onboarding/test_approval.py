"""A private endpoint awaiting manual approval: refused until approved through ARM, then admitted."""

from __future__ import annotations

from arclink.cli import demo
from arclink.cli.main import main


def test_manual_approval_through_arm(tmp_path, capsys):
    from arclink.agent.arm_client import ArmClient, Endpoints
    from arclink.stack import start_services

    svc = start_services(tmp_path, in_memory=True)
    arm = ArmClient(Endpoints.load(tmp_path / "endpoints.json"))
    try:
        topo = demo.topology(arm.subscription)
        topo["privateEndpoints"][0]["manualApproval"] = True
        demo.apply_seed_steps(arm, topo=topo)
        ep = str(tmp_path / "endpoints.json")
        args = ["connect", "-g", demo.CLUSTER_RG, "-n", "c-appr", "-l", "westeurope", "--site", "store-amsterdam",
                "--enable-private-link", "true", "--pls-arm-id", demo.scope_id(arm.subscription), "--yes",
                "--key-type", "ec", "--emulator", ep]
        assert main(args) == 1
        assert "PrivateEndpointConnectionNotApproved" in capsys.readouterr().err
        pecs = arm.get(demo.scope_id(arm.subscription) + "/privateEndpointConnections", "2025-01-13")["value"]
        assert pecs[0]["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"
        arm.put(pecs[0]["id"], "2025-01-13", {"properties": {"privateLinkServiceConnectionState": {
            "status": "Approved", "description": "approved by the platform team"}}})
        assert main(args) == 0
        assert "agent: Connected via private endpoint" in capsys.readouterr().out
    finally:
        arm.close()
        svc.stop()
