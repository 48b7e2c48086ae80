"""Shared test helpers.

``require_tool``: a test that needs an external program skips when it is missing on a
developer's machine, and fails when ``CI=true`` (CI installs every tool the suite uses).
"""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str) -> str:
    path = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.path.exists(p)), None)
    if path:
        return path
    message = f"{name} is not installed (the README's test command installs it with apt-get in CI)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
