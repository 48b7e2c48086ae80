"""Helpers for the import tests: the CLI in a subprocess, a running emulator, findings compared by meaning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted([ROOT / "examples" / "good.yaml", *(ROOT / "examples" / "broken").glob("*.yaml")])
SAMPLES = Path(__file__).resolve().parent / "samples"
RECORDED = Path(__file__).resolve().parent / "recorded"


def arclink(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arclink", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def findings(path_or_source: str, *extra: str) -> list[tuple]:
    """lint's findings by meaning: rule, severity, message, resource and related ids (not lines or paths)."""
    args = ["lint", "--format", "json", *extra]
    if path_or_source:
        args.insert(1, path_or_source)
    r = arclink(*args)
    assert r.returncode in (0, 1), r.stderr
    return sorted((f["rule"], f["severity"], f["message"], (f.get("resource") or "").lower(),
                   tuple(sorted(x.lower() for x in f.get("related") or []))) for f in json.loads(r.stdout)["findings"])


def control(endpoints: Path, method: str, what: str) -> dict:
    from arclink.agent.arm_client import ArmClient, Endpoints

    return ArmClient(Endpoints.load(endpoints)).request(method, f"/_arclink/{what}", None, None)


