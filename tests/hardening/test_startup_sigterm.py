"""SIGTERM stops `serve` promptly at any point of its start, seeding a large topology included."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

GEN = Path(__file__).resolve().parents[2] / "bench" / "gen_topology.py"
READY = "arclink serve: ARM"


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "topology.yaml"
    subprocess.run([sys.executable, str(GEN), "--clusters", "10000", "--sites", "500", "-o", str(path)], check=True,
                   capture_output=True)
    return path


def _serve(state: Path, topology: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "arclink", "serve", "--state", str(state), "--topology",
                             str(topology)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stops(proc: subprocess.Popen, within: float = 10) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        raise AssertionError(f"serve did not stop within {within:g} s of SIGTERM") from None
    out, err = proc.communicate()
    return proc.returncode, out + err


def test_sigterm_before_anything_is_printed(tmp_path, large):
    code, output = _stops(_serve(tmp_path / "state", large))
    assert code in (-signal.SIGTERM, 128 + signal.SIGTERM)
    assert READY not in output and "Traceback" not in output


def test_sigterm_while_seeding_a_large_topology(tmp_path, large):
    state = tmp_path / "state"
    proc = _serve(state, large)
    deadline = time.monotonic() + 60
    while not (state / "serve.lock").exists():  # the lock is taken before the topology is seeded
        assert proc.poll() is None and time.monotonic() < deadline, "serve never took its lock"
        time.sleep(0.01)
    code, output = _stops(proc)
    assert code == 128 + signal.SIGTERM, output
    assert READY not in output and "Traceback" not in output, output
    assert not (state / "endpoints.json").exists()
