"""The model tests' fixtures: the bundled examples as indexes, and variants of examples/good.yaml."""

from __future__ import annotations

from pathlib import Path

from arclink.model.index import Index
from arclink.model.loader import load, loads

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GOOD_TEXT = (EXAMPLES / "good.yaml").read_text()


def example(name: str = "good.yaml") -> Index:
    return load(EXAMPLES / name)


def variant(*pairs: tuple[str, str], append: str = "") -> Index:
    """examples/good.yaml with each (old, new) snippet replaced once (old must be there), loaded."""
    text = GOOD_TEXT
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return loads(text + append)


_ZONE_GROUP = ("    groupIds: [hybridcompute]\n    privateDnsZoneGroup:\n      - privatelink.his.arc.azure.com\n"
               "      - privatelink.guestconfiguration.azure.com\n      - privatelink.dp.kubernetesconfiguration.azure.com\n")


def second_scope_lands() -> Index:
    """examples/broken/two-scopes-one-vnet.yaml where the private DNS zones hold the records of the second
    scope's endpoint ('pe-arc-retail-eu2') and k3s-amsterdam is associated with that scope."""
    text = (EXAMPLES / "broken" / "two-scopes-one-vnet.yaml").read_text()
    for old, new in (
            (_ZONE_GROUP, "    groupIds: [hybridcompute]\n"),
            ("    privateLinkServiceId: pls-arc-retail-eu2\n    groupIds: [hybridcompute]\n",
             "    privateLinkServiceId: pls-arc-retail-eu2\n" + _ZONE_GROUP),
            ("    privateLinkScopeResourceId: pls-arc-retail\n", "    privateLinkScopeResourceId: pls-arc-retail-eu2\n")):
        assert old in text, old
        text = text.replace(old, new, 1)
    return loads(text)
