"""README command 1 and the fleet, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_runs_the_whole_story():
    # how long it takes is the demo's own last line ("done in N s"), not an assertion here
    proc = subprocess.run([sys.executable, "-m", "arclink", "demo"], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Traceback" not in out + proc.stderr
    for step in range(1, 7):
        assert f"Step {step}" in out
    assert "Connected through the private endpoint" in out
    assert "Refused ClusterNotAssociatedWithScope" in out
    assert "must be associated with the Azure Arc Private Link Scope, or the connection will be refused" in out
    assert "Refused PublicNetworkAccessDisabled" in out
    assert "k3s-amsterdam-pos (fixed)" in out
    assert "configuration pulled through westeurope.dp.kubernetesconfiguration.azure.com: extension flux" in out
    for name in ("gbl.his.arc.azure.com", "agentserviceapi.guestconfiguration.azure.com",
                 "dp.kubernetesconfiguration.azure.com"):
        assert f"nslookup {name}" in out
    assert out.count("public - check the DNS forwarding") == 3
    assert "portal: https://127.0.0.1:" in out and "/portal/" in out
    assert out.rstrip().splitlines()[-1].startswith("done in ")


def test_fleet_connects_every_cluster():
    proc = subprocess.run([sys.executable, "-m", "arclink", "fleet", "--clusters", "30", "--sites", "4", "-o", "json"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["connected"] == 30 and out["refused"] == {} and out["heartbeats"] == 30


def test_fleet_bad_input():
    proc = subprocess.run([sys.executable, "-m", "arclink", "fleet", "--clusters", "5000", "--sites", "2"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "raise --sites" in proc.stderr and "Traceback" not in proc.stderr


def test_agent_and_fleet_refuse_nonsense_numbers():
    from arclink.cli.main import main

    assert main(["agent", "run", "--cluster", "x", "--heartbeat", "0"]) == 2
    assert main(["fleet", "--clusters", "3", "--heartbeat", "-1"]) == 2
