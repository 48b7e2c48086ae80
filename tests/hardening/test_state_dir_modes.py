"""The state directory holds the bearer token: 0700, its secret files 0600, and refused when others may write in it."""

from __future__ import annotations

import os
import stat

import pytest

import subprocess
import sys
from arclink.stack import start_services


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The most permissive umask a user may have: the modes must not depend on it."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_a_new_state_directory_and_its_secrets_are_private(tmp_path, open_umask):
    state = tmp_path / "new" / "state"
    svc = start_services(state)
    try:
        assert _mode(state) == 0o700
        for name in ("arm.db", "arm.db-wal", "arm.db-shm", "endpoints.json", "ca-key.pem", "arm-server-key.pem",
                     "gateway-key.pem", "token-signing-key.pem", "principals.json", "serve.lock"):
            assert (state / name).exists(), name
            assert _mode(state / name) == 0o600, name
    finally:
        svc.stop()


def test_database_files_an_older_version_left_readable_are_made_private(tmp_path):
    svc = start_services(tmp_path)
    svc.stop()
    for name in ("arm.db", "arm.db-wal", "arm.db-shm"):
        if (tmp_path / name).exists():
            os.chmod(tmp_path / name, 0o644)
    svc = start_services(tmp_path)
    try:
        for name in ("arm.db", "arm.db-wal", "arm.db-shm"):
            assert _mode(tmp_path / name) == 0o600, name
    finally:
        svc.stop()


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_serve_refuses_a_directory_others_may_write(tmp_path, mode):
    state = tmp_path / "shared"
    state.mkdir()
    os.chmod(state, mode)
    done = subprocess.run([sys.executable, "-m", "arclink", "serve", "--state", str(state), "--in-memory"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    err = done.stderr.strip()
    assert str(state) in err and "chmod go-w" in err and len(err.splitlines()) == 1
    assert not (state / "endpoints.json").exists()
