"""One emulator (ARM + DNS + gateway) per module, with the demo's hub and sites created through ARM."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    from arclink.agent.arm_client import ArmClient, Endpoints
    from arclink.cli.demo import apply_seed_steps
    from arclink.stack import start_services

    state = tmp_path_factory.mktemp("emulator")
    svc = start_services(state, in_memory=True, host="127.0.0.1", arm_port=0, dns_port=0, gateway_port=0)
    arm = ArmClient(Endpoints.load(state / "endpoints.json"))
    apply_seed_steps(arm)
    svc.arm, svc.endpoints_path = arm, str(state / "endpoints.json")
    yield svc
    arm.close()
    svc.stop()
