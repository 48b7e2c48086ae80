"""Every rule has a failing and a passing example; both run here.

Layout: ``tests/rules/cases/APLNNN/fail.yaml`` (must produce exactly the findings of
``expect.yaml``: a list of JSON paths of the resources that rule reports; further failing
examples ``fail-<what>.yaml`` under the key ``fail-<what>``) and
``pass.yaml`` (must produce no finding of that rule). Each rule's ``seed`` quote is checked
against the seed text itself (``seed/``), and its doc page must quote it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from arclink.model import rules
from arclink.model.loader import load

CASES = Path(__file__).parent / "cases"
SEED = Path(__file__).parent / "seed" / "arc-kubernetes-private-link.md"
IDS = [f"APL{n:03d}" for n in range(1, 26)]


def test_every_rule_is_registered_once():
    assert [r.meta.id for r in rules.all_rules()] == IDS


FAILING = [(rule_id, f.name) for rule_id in IDS for f in sorted((CASES / rule_id).glob("fail*.yaml"))]


def test_every_rule_has_a_failing_example():
    assert sorted({rule_id for rule_id, _ in FAILING}) == IDS


@pytest.mark.parametrize(("rule_id", "name"), FAILING)
def test_failing_example(rule_id, name):
    """fail.yaml, and any further fail-<what>.yaml, each with its key (the file's stem) in expect.yaml."""
    case = CASES / rule_id
    expected = yaml.safe_load((case / "expect.yaml").read_text())
    got = sorted(f.path for f in rules.run(load(case / name), only=[rule_id]))
    assert got == sorted(expected[name.removesuffix(".yaml")]), f"{rule_id} {name} findings"


@pytest.mark.parametrize("rule_id", IDS)
def test_passing_example(rule_id):
    found = rules.run(load(CASES / rule_id / "pass.yaml"), only=[rule_id])
    assert found == [], [f.message for f in found]


def prose(markdown: str) -> str:
    """The words of markdown: link text without its target, no emphasis or code marks, no list or
    quote markers, every run of whitespace one space."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"\*\*|__|`", "", text)
    text = re.sub(r"^[ \t]*(?:>[ \t]*)*(?:[-*+]|\d+\.)?[ \t]+", "", text, flags=re.M)
    return " ".join(text.split())


def test_prose_keeps_the_words_and_drops_the_markup():
    assert prose("   1. **Resource type**: `Microsoft.X/y`.\n> see [the docs](/a/b) now") == \
        "Resource type: Microsoft.X/y. see the docs now"


@pytest.mark.parametrize("rule_id", IDS)
def test_seed_quote_is_in_the_seed_text(rule_id):
    """The quote is the seed's own words: compared with the Microsoft Learn page, not with our docs."""
    seed = prose(SEED.read_text(encoding="utf-8"))
    quote = rules.rule(rule_id).meta.seed
    parts = [prose(p) for p in quote.split("[...]")]  # an elision: each part, in order
    assert all(parts), quote
    at = 0
    for part in parts:
        found = seed.find(part, at)
        assert found >= 0, f"{rule_id}: not in the seed text: {part!r}"
        at = found + len(part)


@pytest.mark.parametrize("rule_id", IDS)
def test_rule_has_a_doc_page_quoting_the_seed(rule_id):
    meta = rules.rule(rule_id).meta
    page = Path(__file__).parents[2] / meta.doc
    text = page.read_text()
    assert meta.id in text and meta.fix.split(":")[0][:30] in text.replace("\n", " ")
    assert meta.seed[:40] in text.replace("\n", " ")
