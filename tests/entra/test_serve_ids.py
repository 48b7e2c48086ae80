"""``serve --subscription/--tenant``: the ids a fresh state starts with (az accepts only subscriptions it listed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from arclink.stack import StackError, start_services

SUB = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"
TENANT = "0a1b2c3d-0000-4000-8000-00000000000a"


def test_a_fresh_state_takes_the_given_ids_and_keeps_them(tmp_path):
    svc = start_services(tmp_path / "s", in_memory=True, subscription=SUB.upper(), tenant=TENANT)
    try:
        assert (svc.endpoints["subscription"], svc.endpoints["tenant"]) == (SUB, TENANT)
    finally:
        svc.stop()
    svc = start_services(tmp_path / "s", in_memory=True, subscription=SUB)  # the same again: fine
    svc.stop()


def test_a_state_with_other_ids_is_refused_until_reset(tmp_path):
    svc = start_services(tmp_path / "s")
    first = svc.endpoints["subscription"]
    svc.stop()
    with pytest.raises(StackError, match=f"already has subscription {first}, not {SUB}.*--reset"):
        start_services(tmp_path / "s", subscription=SUB)
    svc = start_services(tmp_path / "s", subscription=SUB, reset=True)
    try:
        assert svc.endpoints["subscription"] == SUB
    finally:
        svc.stop()


def test_serve_refuses_an_id_that_is_no_guid(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "arclink", "serve", "--state", str(tmp_path / "s"), "--in-memory",
                           "--tenant", "contoso"], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert "--tenant 'contoso' is not a GUID" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "s" / "endpoints.json").exists()
