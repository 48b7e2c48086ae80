"""APL005 beyond its example cases: the endpoint-region helper the emulator refuses with."""

from __future__ import annotations

from arclink.model.rules import apl005


def test_pe_region_mismatch_helper():
    assert apl005.pe_region_mismatch("westeurope", "WestEurope") is None
    assert "same region" in apl005.pe_region_mismatch("northeurope", "westeurope", "/sub/x", "/pe/y")
