"""Unusable topology files: exit 2, one line naming the file, the line and the path, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lint_fixtures import arclink, arclink_many

CORPUS = Path(__file__).parent / "bad_inputs"
EXPECT = yaml.safe_load((CORPUS / "expect.yaml").read_text())
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "expect.yaml")


@pytest.fixture(scope="module")
def results():
    runs = arclink_many([["lint", name] for name in FILES], cwd=CORPUS)
    return dict(zip(FILES, runs))


def test_every_file_has_an_expectation():
    assert sorted(EXPECT) == FILES


def _one_line(proc) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("name", FILES)
def test_bad_input(results, name):
    proc, want = results[name], EXPECT[name]
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    line = _one_line(proc)
    assert line.startswith(f"{name}:{want['line']}:"), line
    if want["path"]:
        assert f" at {want['path']}: " in line, line
    assert want["says"] in line, line


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_bad_input_is_not_a_report_in_any_format(fmt):
    proc = arclink("lint", "dangling_scope.yaml", "--format", fmt, cwd=CORPUS)
    assert proc.returncode == 2 and proc.stdout == ""
    assert _one_line(proc).startswith("dangling_scope.yaml:11: at $.privateEndpoints[0].privateLinkServiceId:")


def test_missing_file(tmp_path):
    proc = arclink("lint", "nowhere.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "nowhere.yaml" in _one_line(proc) and "not found" in proc.stderr


def test_directory(tmp_path):
    (tmp_path / "topo.yaml").mkdir()
    proc = arclink("lint", "topo.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "topo.yaml" in _one_line(proc) and "directory" in proc.stderr


def test_unreadable_explain_input_is_the_same_line():
    proc = arclink("explain", "dangling_site.yaml", cwd=CORPUS)
    assert proc.returncode == 2
    assert _one_line(proc).startswith("dangling_site.yaml:7: at $.clusters[0].site:")
