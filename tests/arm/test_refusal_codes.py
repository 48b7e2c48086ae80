"""Every rule the emulator refuses writes with carries the ARM error code it refuses with.

The enforced set is found three ways that must agree: the rule modules that code in
``arclink/arm`` imports (a refusal calls its rule by import), the rules each resource
family declares in ``ENFORCES``, and the rules marked ``hard`` (Azure refuses them).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import arclink.arm
from arclink.arm import resources
from arclink.arm.errors import refuse
from arclink.model.rules import all_rules

ARM_DIR = Path(arclink.arm.__file__).parent
_APL = re.compile(r"^apl\d{3}$")


def _imported_rules(path: Path) -> set[str]:
    """The ids (APLNNN) of the rule modules a source file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "arclink.model.rules":
            found |= {a.name.upper() for a in node.names if _APL.match(a.name)}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("arclink.model.rules.apl"):
            found.add(node.module.rsplit(".", 1)[1].upper())
        elif isinstance(node, ast.Import):
            found |= {a.name.rsplit(".", 1)[1].upper() for a in node.names
                      if a.name.startswith("arclink.model.rules.apl")}
    return found


def test_every_enforced_rule_has_an_arm_code():
    imported = set().union(*(_imported_rules(p) for p in ARM_DIR.rglob("*.py")))
    declared = {r.id for r in resources.ENFORCED_RULES}
    hard = {r.meta.id for r in all_rules() if r.meta.hard}
    assert imported, "the emulator refuses nothing through the rules: the scan is broken"
    assert imported == declared == hard, (imported, declared, hard)
    missing = sorted(r.meta.id for r in all_rules() if r.meta.id in hard and not r.meta.arm_code)
    assert not missing, f"enforced rules without an ARM error code: {missing}"


def test_each_family_declares_the_rules_it_imports():
    for family in resources.FAMILIES:
        assert _imported_rules(Path(family.__file__)) == {r.id for r in family.ENFORCES}, family.__name__


def test_only_enforced_rules_have_an_arm_code():
    with_code = {r.meta.id for r in all_rules() if r.meta.arm_code}
    assert with_code == {r.id for r in resources.ENFORCED_RULES}


def test_a_refusal_takes_its_code_id_and_fix_from_the_rule():
    for rule in resources.ENFORCED_RULES:
        err = refuse(rule, "the problem.", "location")
        assert (err.status, err.code, err.target) == (400, rule.arm_code, "location")
        assert err.message == f"{rule.id}: the problem. {rule.fix}"


def test_no_rule_is_looked_up_by_name_in_the_emulator():
    for path in ARM_DIR.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b_rule\(|importlib|hasattr\(", text), path
