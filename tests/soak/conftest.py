"""The soak tests reuse the listener-limit helpers of tests/hardening (limits_fixtures)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hardening"))
