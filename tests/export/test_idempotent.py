"""Each exported plan applied twice to the emulator: the second run changes nothing, fails nowhere.

``arclink apply`` runs the az script's steps with the script's own guards (``show || create``,
the private-link state compared before ``connect``, a manual connection answered once), so
this is the script run twice against the emulator's ARM API. The whole stored state, raw
(``/_arclink/state?format=arm``: every resource with its etag and timestamps), must be the same
after both runs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from arclink.agent.arm_client import ArmClient, Endpoints
from arclink.model.loader import load
from tests.export.conftest import FIXTURES, GOOD, ROOT

TOPOLOGIES = {"good": GOOD, "spread": FIXTURES / "spread.yaml", "hub-spoke": FIXTURES / "hub-spoke.yaml"}


@pytest.fixture
def emulator(tmp_path):
    from arclink.stack import start_services

    services = start_services(state_dir=str(tmp_path / "state"), in_memory=True, host="127.0.0.1",
                              arm_port=0, dns_port=0, gateway_port=0)
    try:
        yield tmp_path / "state" / "endpoints.json"
    finally:
        services.stop()


def _apply(path, endpoints):
    return subprocess.run([sys.executable, "-m", "arclink", "apply", str(path), "--emulator", str(endpoints),
                           "--force", "--output", "json"], capture_output=True, text=True, cwd=ROOT, timeout=180)


def _state(endpoints) -> dict:
    return ArmClient(Endpoints.load(endpoints)).get("/_arclink/state?format=arm", None)


@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
def test_second_run_changes_nothing(name, emulator):
    path = TOPOLOGIES[name]
    first = _apply(path, emulator)
    assert first.returncode == 0, first.stderr
    after_first = _state(emulator)
    second = _apply(path, emulator)
    assert second.returncode == 0, second.stderr
    # no step failed; the only warning allowed is the registration the emulator does not serve
    assert [ln for ln in second.stderr.splitlines() if "Microsoft.Insights" not in ln] == []
    summary = json.loads(second.stdout)
    assert summary["applied"] == summary["total"] - ("Microsoft.Insights" in second.stderr)
    after_second = _state(emulator)
    assert json.dumps(after_second, sort_keys=True) == json.dumps(after_first, sort_keys=True)


def test_hub_spoke_lands_in_the_emulator_as_planned(emulator):
    """Gateway transit, the fixed addresses and the features reach the emulator's state."""
    path = TOPOLOGIES["hub-spoke"]
    r = _apply(path, emulator)
    assert r.returncode == 0, r.stderr
    resources = {x["id"].lower(): x for x in _state(emulator)["resources"]}
    want = load(path)
    spoke = next(x for x in resources.values() if x.get("name") == "vnet-spoke-arc")
    (peering,) = spoke["properties"]["virtualNetworkPeerings"]
    assert peering["properties"]["useRemoteGateways"] is True and peering["properties"]["allowGatewayTransit"] is False
    pe = next(x for x in resources.values() if x.get("type") == "Microsoft.Network/privateEndpoints")
    assert {c["fqdn"]: c["ipAddresses"][0] for c in pe["properties"]["customDnsConfigs"]} == \
        dict(want.endpoints["pe-hs"].spec.ip_addresses)
    office = next(x for x in resources.values() if x.get("name") == "k8s-office")
    assert [c["feature"] for c in office["properties"]["arcAgentryConfigurations"]] == ["cluster-connect"]
