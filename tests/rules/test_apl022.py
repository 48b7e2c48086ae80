"""APL022 beyond its example cases: version parsing; only private link clusters with declared tools."""

from __future__ import annotations

import pytest

from arclink.model.rules import apl022

from rules_fixtures import edited, run_text


@pytest.mark.parametrize("text,expected", [
    ("1.3.0", (1, 3, 0)), ("v1.3", (1, 3, 0)), ("2.30.0b1", (2, 30, 0)), ("2.70.0", (2, 70, 0)),
    ("1.3.0-beta.1", (1, 3, 0)), ("latest", None), ("", None), ("2.x", None), ("1..3", None), (None, None),
])
def test_parse_version(text, expected):
    assert apl022.parse_version(text) == expected


def test_apl022_only_private_link_clusters_with_tools():
    text = edited(append="  - name: k3s-old-public\n    site: store-amsterdam\n"
                         "    tools: {connectedk8s: 1.0.0, azureCli: 2.0.0}\n"
                         "  - name: k3s-unknown-tools\n    site: store-amsterdam\n    privateLinkState: Enabled\n"
                         "    privateLinkScopeResourceId: pls-arc-retail\n")
    assert run_text(text, "APL022") == []
