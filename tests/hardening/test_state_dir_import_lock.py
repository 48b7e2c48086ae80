"""`state import` writes the database only under the lock `serve` holds: never beside a running server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from arclink.cli.main import main
from arclink.stack import start_services

GEN = Path(__file__).resolve().parents[2] / "bench" / "gen_topology.py"


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    path = tmp_path_factory.mktemp("topo") / "topology.yaml"
    subprocess.run([sys.executable, str(GEN), "--clusters", "2", "--sites", "1", "-o", str(path)], check=True)
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_import_beside_a_server_whose_endpoints_lie_is_refused(tmp_path, topology, capsys):
    svc = start_services(tmp_path)
    try:
        before = svc.store.all_objects()
        ep = json.loads((tmp_path / "endpoints.json").read_text())
        ep["pid"] = _dead_pid()  # stale or foreign: the old check took it for "no server"
        (tmp_path / "endpoints.json").write_text(json.dumps(ep))
        assert main(["state", "import", str(topology), "--state", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "is in use by another 'arclink serve'" in err and "--emulator" in err
        assert len(svc.store.all_objects()) == len(before)
    finally:
        svc.stop()


def test_import_with_a_running_server_goes_through_it(tmp_path, topology, capsys):
    svc = start_services(tmp_path)
    try:
        assert main(["state", "import", str(topology), "--state", str(tmp_path)]) == 0
        assert "imported" in capsys.readouterr().out
    finally:
        svc.stop()


def test_import_without_a_server_writes_and_lets_go_of_the_lock(tmp_path, topology, capsys):
    assert main(["state", "import", str(topology), "--state", str(tmp_path)]) == 0
    capsys.readouterr()
    svc = start_services(tmp_path)  # the lock is free again
    try:
        assert svc.store.all_objects()
    finally:
        svc.stop()
