"""The user's flow, as processes: 'arclink serve --topology' then 'arclink doctor --emulator'."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from doctor_fixtures import EXAMPLES

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def served(tmp_path):
    state = tmp_path / "state"
    proc = subprocess.Popen([sys.executable, "-m", "arclink", "serve", "--state", str(state), "--in-memory",
                             "--topology", str(EXAMPLES / "broken" / "dns-forwards-to-public-resolver.yaml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    endpoints = state / "endpoints.json"
    try:
        deadline = time.monotonic() + 30
        while not endpoints.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        if not endpoints.exists():
            pytest.fail(f"arclink serve did not write endpoints.json: {proc.stderr.read1().decode() if proc.poll() is not None else 'timeout'}")
        yield endpoints
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def doctor_process(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARCLINK_DOCTOR_LOOPBACK_ONLY": "1", "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "arclink", "doctor", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_doctor_against_a_served_emulator(served):
    ok = doctor_process("--emulator", str(served), "--site", "store-rotterdam", "-p", "--json")
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr
    assert json.loads(ok.stdout)["summary"]["result"] == "pass"
    bad = doctor_process("--emulator", str(served), "--site", "store-amsterdam", "-p", "--explain")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "forwards to a public resolver (8.8.8.8)" in bad.stdout.replace("\n", " ")
    assert bad.stdout.strip().splitlines()[-1].startswith("FAILED: ")
