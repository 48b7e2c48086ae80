"""``arclink lint --emulator``: lint the live state of a running ARM emulator (started here on loopback, port 0)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from lint_fixtures import EXAMPLES, arclink


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    state = tmp_path_factory.mktemp("emu")
    topology = EXAMPLES / "broken" / "pending-endpoint-connection.yaml"
    proc = subprocess.Popen([sys.executable, "-m", "arclink", "serve", "--state", str(state), "--in-memory",
                             "--host", "127.0.0.1", "--arm-port", "0", "--dns-port", "0", "--gateway-port", "0",
                             "--topology", str(topology)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    endpoints = state / "endpoints.json"
    deadline = time.monotonic() + 30
    while not endpoints.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"arclink serve did not start: {proc.stdout.read() if proc.stdout else ''}")
        time.sleep(0.1)
    try:
        yield endpoints
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_lint_live_state(emulator):
    proc = arclink("lint", "--emulator", emulator, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["file"] is None
    assert [(f["rule"], f["path"]) for f in doc["findings"]] == [("APL019", "$.privateEndpoints[0]")]


def test_lint_live_state_sarif_has_logical_locations_only(emulator):
    proc = arclink("lint", "--emulator", emulator, "--format", "sarif")
    assert proc.returncode == 1
    (result,) = json.loads(proc.stdout)["runs"][0]["results"]
    loc = result["locations"][0]
    assert "physicalLocation" not in loc
    assert loc["logicalLocations"][0]["fullyQualifiedName"].endswith("/privateEndpoints/pe-arc-retail")


def test_lint_emulator_not_running(tmp_path):
    (tmp_path / "endpoints.json").write_text(json.dumps({
        "arm": "https://127.0.0.1:9", "ca_cert": str(tmp_path / "ca.pem"), "token": "t",
        "subscription": "00000000-0000-0000-0000-000000000000", "tenant": "t",
        "dns": {"host": "127.0.0.1", "port": 9}, "gateway": {"host": "127.0.0.1", "port": 9}, "pid": 1}))
    proc = arclink("lint", "--emulator", tmp_path / "endpoints.json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
