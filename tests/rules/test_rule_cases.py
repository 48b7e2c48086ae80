"""Every rule has a failing and a passing example; both run here.

Layout: ``tests/rules/cases/APLNNN/fail.yaml`` (must produce exactly the findings of
``expect.yaml``: a list of JSON paths of the resources that rule reports) and
``pass.yaml`` (must produce no finding of that rule).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from arclink.model import rules
from arclink.model.loader import load

CASES = Path(__file__).parent / "cases"
IDS = [f"APL{n:03d}" for n in range(1, 26)]


def test_every_rule_is_registered_once():
    assert [r.meta.id for r in rules.all_rules()] == IDS


@pytest.mark.parametrize("rule_id", IDS)
def test_failing_example(rule_id):
    case = CASES / rule_id
    expected = yaml.safe_load((case / "expect.yaml").read_text())
    got = sorted(f.path for f in rules.run(load(case / "fail.yaml"), only=[rule_id]))
    assert got == sorted(expected["fail"]), f"{rule_id} fail.yaml findings"


@pytest.mark.parametrize("rule_id", IDS)
def test_passing_example(rule_id):
    found = rules.run(load(CASES / rule_id / "pass.yaml"), only=[rule_id])
    assert found == [], [f.message for f in found]


@pytest.mark.parametrize("rule_id", IDS)
def test_rule_has_a_doc_page_quoting_the_seed(rule_id):
    meta = rules.rule(rule_id).meta
    page = Path(__file__).parents[2] / meta.doc
    text = page.read_text()
    assert meta.id in text and meta.fix.split(":")[0][:30] in text.replace("\n", " ")
    assert meta.seed[:40] in text.replace("\n", " ")
