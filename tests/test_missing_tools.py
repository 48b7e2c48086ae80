"""A missing tool skips a test on a developer's machine and fails it under CI=true, decided in one place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import require_module, require_tool, unavailable

TESTS = Path(__file__).parent


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_tool_fails_under_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no-such-tool-here is not installed"):
        require_tool("no-such-tool-here")
    with pytest.raises(outcome, match="no_such_package_here is not installed"):
        require_module("no_such_package_here")
    with pytest.raises(outcome, match="no IPv6 loopback"):
        unavailable("no IPv6 loopback here")


def test_present_tools_and_modules_are_returned(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert Path(require_tool("python3")).name.startswith("python")
    assert require_module("json.decoder").__name__ == "json.decoder"


def test_no_test_skips_around_the_helper():
    """Every skip goes through ``unavailable``; a direct pytest.skip or importorskip would ignore CI=true."""
    direct = re.compile(r"pytest\.(skip|importorskip)\(|mark\.skip(if)?\b|mark\.xfail\b")
    helpers = {TESTS / "conftest.py", Path(__file__)}
    offenders = [f"{p.relative_to(TESTS)}:{n}" for p in sorted(TESTS.rglob("*.py")) if p not in helpers
                 for n, line in enumerate(p.read_text().splitlines(), 1) if direct.search(line)]
    assert offenders == []
