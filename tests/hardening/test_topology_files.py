"""Topology files that must be refused quickly, in one sentence, with exit 2: alias bombs, devices,
FIFOs, oversize and deeply nested files. Each command runs in a subprocess as a user would run it;
a hang shows as the subprocess timeout, a crash as a traceback or a signal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from arclink.model import input_limits, loader

pytestmark = pytest.mark.timeout(120)


def arclink(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arclink", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=60, stdin=subprocess.DEVNULL)


def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    """The "billion laughs" of YAML: each level lists the previous one ``fan`` times (9^9 leaves in 342 bytes)."""
    lines = ['a: &a [' + ",".join(['"lol"'] * fan) + "]"]
    prev = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * fan) + "]")
        prev = name
    return "\n".join(lines) + "\n"


def assert_refused(result: subprocess.CompletedProcess, file: Path, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    err = result.stderr.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err  # one sentence
    assert str(file) in err, err
    for word in words:
        assert word in err, err


@pytest.fixture
def bomb(tmp_path) -> Path:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    assert path.stat().st_size < 400
    return path


@pytest.mark.parametrize("argv", [
    ["lint", "{f}"],
    ["explain", "{f}"],
    ["export", "nsg", "{f}", "-o", "{out}"],
    ["state", "import", "--state", "{state}", "{f}"],
])
def test_an_alias_bomb_is_refused(bomb, tmp_path, argv):
    args = [a.format(f=bomb, out=tmp_path / "out", state=tmp_path / "state") for a in argv]
    result = arclink(*args, cwd=tmp_path)
    assert_refused(result, bomb, "alias")


def test_serve_refuses_an_alias_bomb(bomb, tmp_path):
    result = arclink("serve", "--state", tmp_path / "state", "--topology", bomb, cwd=tmp_path)
    assert_refused(result, bomb, "alias")


def test_many_aliases_are_refused(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("x: &x 1\ny: [" + ",".join(["*x"] * (input_limits.MAX_ALIASES + 1)) + "]\n")
    assert_refused(arclink("lint", path), path, "alias")


def anchored_example() -> str:
    good = (Path(__file__).resolve().parents[2] / "examples" / "good.yaml").read_text()
    anchored = good.replace("  location: westeurope", "  location: &loc westeurope", 1)
    return anchored.replace("    location: westeurope", "    location: *loc")


def test_a_few_aliases_are_fine(tmp_path):
    """Anchors and aliases still work in a real topology: the limits are far above what one writes."""
    path = tmp_path / "anchored.yaml"
    path.write_text(anchored_example())
    assert "*loc" in path.read_text()
    result = arclink("lint", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_duplicate_key_beside_aliases_is_still_named(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(anchored_example().replace("    name: retail-prod", "    name: retail-prod\n    name: again", 1))
    assert_refused(arclink("lint", path), path, "duplicate key 'name'")


def test_a_symlink_to_dev_zero_is_refused(tmp_path):
    path = tmp_path / "zero.yaml"
    path.symlink_to("/dev/zero")
    assert_refused(arclink("lint", path), path, "character device", "regular file")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    assert_refused(arclink("lint", path), path, "FIFO", "regular file")


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as fh:  # sparse: no disk is used
        fh.truncate(input_limits.MAX_FILE_BYTES + 1)
    assert_refused(arclink("lint", path), path, "larger than 64 MiB")


def test_reading_stops_at_the_limit_whatever_the_size_says(tmp_path, monkeypatch):
    """/proc files and growing files report a size that is not what is read: the count is what is read."""
    monkeypatch.setattr(input_limits, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "grows.yaml"
    path.write_text("# " + "x" * 2000 + "\n")
    real_fstat = os.fstat
    monkeypatch.setattr(input_limits.os, "fstat", lambda fd: os.stat_result((*real_fstat(fd)[:6], 10, *real_fstat(fd)[7:])))
    with pytest.raises(loader.TopologyError, match="larger than"):
        loader.read_topology(path)


DEEP = {
    "flow.yaml": lambda: "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "block.yaml": lambda: "a:\n" + "".join(" " * i + "- \n" for i in range(1, 3000)) + "x\n",
    "deep.json": lambda: "[" * 100_000 + "]" * 100_000 + "\n",
}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_nesting_is_refused_not_a_crash(tmp_path, name):
    path = tmp_path / name
    path.write_text(DEEP[name]())
    result = arclink("lint", path)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])  # -11 was a segfault in libyaml
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
