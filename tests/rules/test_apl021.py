"""APL021 beyond its example cases: the preview-region helper and its catalogue override."""

from __future__ import annotations

from arclink.model.rules import apl021


def test_region_unavailable():
    assert apl021.region_unavailable("westeurope") is None
    assert apl021.region_unavailable(None) is None
    for spelling in ("southeastasia", "Southeast Asia", "SouthEastAsia"):
        assert "Southeast Asia" in apl021.region_unavailable(spelling)


def test_region_list_can_be_overridden(tmp_path, monkeypatch):
    from arclink.model import catalogue

    override = tmp_path / "catalogue.json"
    override.write_text('{"previewUnavailableRegions": ["westeurope"]}')
    monkeypatch.setenv("ARCLINK_CATALOGUE", str(override))
    catalogue._overrides.cache_clear()
    try:
        assert apl021.region_unavailable("westeurope")
        assert apl021.region_unavailable("southeastasia") is None
    finally:
        monkeypatch.delenv("ARCLINK_CATALOGUE")
        catalogue._overrides.cache_clear()
