"""Helpers for the planner tests: run ``arclink`` as a user would, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def arclink(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arclink", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def arclink_many(argvs: list[list[str]], cwd: Path | None = None) -> list[subprocess.CompletedProcess]:
    """Run several commands two at a time (the machine has two cores)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda a: arclink(*a, cwd=cwd), argvs))
