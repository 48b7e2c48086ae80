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
