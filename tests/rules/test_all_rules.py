"""What holds for every rule beyond its example cases: one-sentence messages, which rules are hard, a clean good example."""

from __future__ import annotations

import pytest

from arclink.model import rules
from arclink.model.loader import load, loads

from rules_fixtures import GOOD_TEXT, ROOT

APL001_013 = [f"APL{n:03d}" for n in range(1, 14)]
APL014_025 = [f"APL{n:03d}" for n in range(14, 26)]


def test_good_example_is_clean_for_every_rule():
    assert rules.run(load(ROOT / "examples/good.yaml"), only=APL001_013) == []
    ix = loads(GOOD_TEXT)
    assert [f.message for f in rules.run(ix, only=APL014_025)] == []


@pytest.mark.parametrize("rule_id", APL001_013)
def test_messages_are_one_sentence_naming_resources(rule_id):
    found = rules.run(load(ROOT / f"tests/rules/cases/{rule_id}/fail.yaml"), only=[rule_id])
    assert found
    for f in found:
        assert f.message.endswith(".") and "\n" not in f.message
        assert "'" in f.message  # names in quotes
        assert f.severity == rules.rule(rule_id).meta.severity
        assert f.fix == rules.rule(rule_id).meta.fix


def test_hard_rules_are_the_ones_azure_refuses():
    hard = {r.meta.id for r in rules.all_rules() if r.meta.hard}
    assert hard == {"APL001", "APL004", "APL005", "APL012", "APL018", "APL021"}
