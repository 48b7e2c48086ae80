"""Lab tests: as root on Linux. With CI=true a machine that cannot build a lab fails the run."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import unavailable

REPO = Path(__file__).resolve().parents[2]
RUN_DIR = Path("/run/arclink-lab")
_counter = itertools.count()


def _why_not() -> str | None:
    if sys.platform != "linux":
        return "the lab needs Linux"
    if os.geteuid() != 0:
        return "the lab needs root"
    try:
        import pyroute2  # noqa: F401
    except ImportError:
        return "pyroute2 is not installed (pip install 'arclink[lab]')"
    probe = f"arclink-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    for tool in ("named", "unbound", "dnsmasq", "nft", "nslookup", "curl"):
        if subprocess.run(["sh", "-c", f"command -v {tool} || test -x /usr/sbin/{tool}"],
                          capture_output=True).returncode != 0:
            return f"{tool} is not installed"
    return None


@pytest.fixture(scope="session")
def lab_capable():
    why = _why_not()
    if why:
        unavailable(why)


def root_namespace() -> dict[str, str]:
    """The machine's root namespace as text: links, addresses, routes, nftables ruleset."""
    cmds = {"links": ["ip", "-d", "link", "show"], "addresses": ["ip", "addr", "show"],
            "routes4": ["ip", "-4", "route", "show", "table", "all"],
            "routes6": ["ip", "-6", "route", "show", "table", "all"], "nft": ["nft", "list", "ruleset"]}
    return {k: subprocess.run(c, capture_output=True, text=True, check=True).stdout for k, c in cmds.items()}


def arclink(*args, timeout=60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "arclink", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


class RunningLab:
    def __init__(self, name: str, proc: subprocess.Popen, log: Path):
        self.name, self.proc, self.log = name, proc, log

    @property
    def record(self) -> dict:
        return json.loads((RUN_DIR / self.name / "lab.json").read_text())

    def exec(self, site: str, *command, timeout=30) -> subprocess.CompletedProcess:
        return arclink("lab", "exec", "--name", self.name, site, "--", *command, timeout=timeout)


def start_lab(topology: str, *extra: str, tmp_path: Path) -> RunningLab:
    name = f"t{os.getpid() % 10000}x{next(_counter)}"
    log = tmp_path / f"{name}.log"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "arclink", "lab", "up", str(REPO / topology), "--name", name,
                                 *extra], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    lab = RunningLab(name, proc, log)
    deadline = time.monotonic() + 90
    while True:  # poll for the lab's record saying ready
        try:
            if lab.record.get("ready"):
                return lab
        except (OSError, ValueError):
            pass
        if proc.poll() is not None:
            stop_lab(lab)  # whatever it built before it died
            raise AssertionError(f"lab up exited with {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            stop_lab(lab)  # never leave an 'up' running past its test
            raise AssertionError(f"lab up not ready in 90 s:\n{log.read_text()}")
        time.sleep(0.05)


def stop_lab(lab: RunningLab) -> None:
    if lab.proc.poll() is None:
        lab.proc.terminate()
        try:
            lab.proc.wait(30)
        except subprocess.TimeoutExpired:
            lab.proc.kill()
            lab.proc.wait(10)
    arclink("lab", "down", "--name", lab.name)


@pytest.fixture
def lab_factory(lab_capable, tmp_path):
    labs: list[RunningLab] = []

    def make(topology: str, *extra: str) -> RunningLab:
        lab = start_lab(topology, *extra, tmp_path=tmp_path)
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        stop_lab(lab)
