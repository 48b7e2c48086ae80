"""Fuzzing the parsers that read untrusted input: the ARM body readers, DNS wire handling, the
gateway's PROXY header and hello lines, and the topology loader (targets.py says what a crash is).

- The seed corpus (corpus/<target>/) replays through every target on each run: fast, no fuzzer.
- The fuzzer (atheris, libFuzzer) runs each target for a bounded time and number of runs
  (marked slow; CI runs it). New inputs go to a temporary directory, never to the repository;
  a crash fails the test with the input's path and the libFuzzer output.
- known/<target>/ holds reproducers of bugs the fuzzer found in code whose fix is tracked
  elsewhere; they are expected to fail until that fix lands.

ARCLINK_FUZZ_SECONDS sets each target's time (default 20 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_module

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import targets  # noqa: E402

NAMES = sorted(targets.TARGETS)
SECONDS = int(os.environ.get("ARCLINK_FUZZ_SECONDS", "20"))


def _corpus(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []


@pytest.mark.parametrize("name", NAMES)
def test_seed_corpus_replays_cleanly(name):
    one = targets.TARGETS[name]()
    seeds = _corpus(targets.CORPUS / name)
    assert len(seeds) >= 4, f"the seed corpus of {name} is missing"
    for seed in seeds:
        one(seed.read_bytes())


def _atheris_available() -> bool:
    require_module("atheris")  # pip install -e '.[test]' installs it
    return True


@pytest.mark.slow
@pytest.mark.timeout(SECONDS * 3 + 120)
@pytest.mark.parametrize("name", NAMES)
def test_fuzz(name, tmp_path):
    _atheris_available()
    found = tmp_path / "found"
    found.mkdir()
    argv = [sys.executable, str(HERE / "harness.py"), name, f"-max_total_time={SECONDS}", "-runs=5000000",
            "-max_len=8192", "-timeout=20", "-rss_limit_mb=3000", "-print_final_stats=1",
            f"-artifact_prefix={tmp_path}/", str(found), str(targets.CORPUS / name)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(targets.ROOT / "src"),
                                                                     os.environ.get("PYTHONPATH")])))
    result = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=SECONDS * 3 + 60,
                            stdin=subprocess.DEVNULL)
    crashes = sorted(str(p) for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    assert result.returncode == 0 and not crashes, (
        f"the {name} fuzzer found a failing input: {crashes}\n" + result.stderr[-6000:])
    assert "Done" in result.stderr, result.stderr[-3000:]


# JSON nested 1,000 levels deep once raised RecursionError in the ARM body readers (issue 11 point 10)
@pytest.mark.parametrize("reproducer", _corpus(HERE / "known" / "arm_body"), ids=lambda p: p.name)
def test_known_arm_body_reproducers(reproducer):
    targets.TARGETS["arm_body"]()(reproducer.read_bytes())
