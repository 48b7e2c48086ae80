"""APL004 beyond its example cases: the region helper the emulator refuses with."""

from __future__ import annotations

from arclink.model.rules import apl004


def test_region_mismatch_helper():
    assert apl004.region_mismatch("West Europe", "westeurope") is None
    msg = apl004.region_mismatch("eastus", "westeurope")
    assert msg.startswith("The location of the private link scope resource does not match") and "'eastus'" in msg
