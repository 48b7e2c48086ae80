"""Running the exported az scripts with the real az against an emulator of their own.

One emulator per topology, started on port 0 with the topology's subscription as its own (az knows only
the subscriptions it listed at login, and the script pins the topology's). az runs in a configuration
directory that ``arclink az-login`` prepared, and every request not sent to loopback goes to a proxy
that refuses and records it.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from arclink import export
from arclink.arm.errors import ArmError
from arclink.arm.seed import seed_topology
from arclink.arm.store import Store
from arclink.model.loader import load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml")) + sorted((ROOT / "examples" / "broken").glob("*.yaml"))
GOOD = ROOT / "examples" / "good.yaml"
_STEP = re.compile(r"^\[(\d+)/(\d+)\] (.*)$")
_CODE = re.compile(r"^ERROR: \((\w+)\)", re.M)


def refusal(topology) -> str | None:
    """The ARM code the emulator refuses ``topology`` with when it is created through ARM, else None."""
    store = Store(None)
    try:
        seed_topology(store, topology)
    except ArmError as exc:
        return exc.code
    finally:
        store.close()
    return None


def azure_side(topology):
    """The topology without its clusters: what deploy.sh creates (clusters are onboard.sh's)."""
    return msgspec.structs.replace(topology, clusters=[])


@dataclass
class ScriptRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_step(self) -> str | None:
        steps = [m.group(3) for m in map(_STEP.match, self.stdout.splitlines()) if m]
        return steps[-1] if steps else None

    @property
    def error_code(self) -> str | None:
        m = _CODE.search(self.stderr)
        return m.group(1) if m else None


@dataclass
class Deployment:
    """One topology, its exported scripts and its own emulator, with az logged in to it."""

    example: Path
    workdir: Path
    az: str
    proxy_port: int
    svc: object = None
    env: dict = field(default_factory=dict)

    def __post_init__(self):
        self.index = load(self.example)
        self.subscription = self.index.topology.defaults.subscription

    @staticmethod
    def topology_of(example: Path):
        return load(example).topology

    def start(self) -> "Deployment":
        from arclink.cli.az_login import login
        from arclink.stack import start_services

        # The emulator stands for the topology's subscription (serve --subscription).
        self.svc = start_services(self.workdir / "state", in_memory=True, subscription=self.subscription)
        config_dir, ca = login(self.svc.state_dir / "endpoints.json", self.az)
        self.env = script_env(config_dir, ca, self.az, self.proxy_port)
        self.scripts = export.write(export.render("azcli", self.index), self.workdir / "out")
        return self

    def stop(self) -> None:
        if self.svc is not None:
            self.svc.stop()

    def run(self, script: str = "deploy.sh") -> ScriptRun:
        path = self.workdir / "out" / script
        proc = subprocess.run(["bash", str(path)], env=self.env, capture_output=True, text=True, timeout=1800,
                              stdin=subprocess.DEVNULL, cwd=self.workdir)
        return ScriptRun(proc.returncode, proc.stdout, proc.stderr)

    def call(self, method: str, path: str, body: dict | None = None):
        from tests.entra.conftest import request

        return request(self.svc, method, path, token=self.svc.endpoints["token"], body=body)

    def state(self) -> dict:
        status, body, _ = self.call("GET", "/_arclink/state?format=arm")
        assert status == 200, body
        return body


def script_env(config_dir: Path, ca: str, az: str, proxy_port: int) -> dict:
    """az's environment: the az-login configuration, and a recording proxy for anything not on loopback."""
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "AZURE_CONFIG_DIR")}
    proxy = f"http://127.0.0.1:{proxy_port}"
    env.update({"AZURE_CONFIG_DIR": str(config_dir), "REQUESTS_CA_BUNDLE": ca,
                "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "NO_PROXY": "127.0.0.1,localhost",
                "AZURE_CORE_COLLECT_TELEMETRY": "no", "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
                "AZURE_CORE_INSTANCE_DISCOVERY": "false", "AZURE_CORE_NO_COLOR": "true",
                "PATH": f"{Path(az).parent}{os.pathsep}{env.get('PATH', '')}"})
    return env


def lint_keys(findings: list[dict]) -> set[tuple[str, str]]:
    return {(f["rule"], (f.get("resource") or "").lower()) for f in findings}
