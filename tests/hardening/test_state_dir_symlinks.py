"""Nothing in the state directory is written through a symlink another local user planted there."""

from __future__ import annotations

import os

import pytest

import subprocess
import sys
from arclink.stack import start_services

PRECIOUS = b"a file outside the state directory that no write may touch\n"


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "victim.txt"
    path.write_bytes(PRECIOUS)
    os.chmod(path, 0o644)
    return path


@pytest.mark.parametrize("name", ["endpoints.json.tmp", "endpoints.json", "principals.json.tmp", "settings.json",
                                  "ca.pem", "ca-key.pem", "arm-server.pem", "gateway-key.pem"])
def test_a_planted_link_is_replaced_not_followed(tmp_path, victim, name):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.symlink(victim, state / name)
    svc = start_services(state, in_memory=True)
    svc.stop()
    assert victim.read_bytes() == PRECIOUS
    assert os.stat(victim).st_mode & 0o777 == 0o644


def test_a_planted_lock_link_is_refused(tmp_path, victim):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.symlink(victim, state / "serve.lock")
    done = subprocess.run([sys.executable, "-m", "arclink", "serve", "--state", str(state), "--in-memory"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    err = done.stderr.strip()
    assert "serve.lock" in err and "symbolic link" in err and len(err.splitlines()) == 1
    assert victim.read_bytes() == PRECIOUS
