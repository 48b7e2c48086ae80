"""Shared test helpers: the one place that decides whether a missing tool skips or fails.

A test that needs something the machine may lack (an external program, an optional package, a
capability such as IPv6 loopback or nftables) calls ``unavailable(reason)`` when it is missing,
or ``require_tool`` / ``require_module`` for the common cases. On a developer's machine the test
skips with the reason; with ``CI=true`` it fails, since CI installs everything the suite uses
(``.ci/run`` sets CI=true itself). Tests never call ``pytest.skip`` or ``importorskip`` directly.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def unavailable(reason: str) -> NoReturn:
    """Stop the test because something it needs is missing: fail under CI=true, else skip."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: every tool the suite uses must be present)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """The path of program ``name``; ``unavailable`` when it is not installed."""
    path = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.path.exists(p)), None)
    if path:
        return path
    unavailable(f"{name} is not installed (the README's test command installs it with apt-get in CI)")


def require_module(name: str) -> ModuleType:
    """Import ``name``; ``unavailable`` when it is not installed (the test extras name it)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
            raise  # the module is there but one of its own imports is broken: a real error
        unavailable(f"the Python package {name} is not installed (pip install -e '.[test]')")
