"""The emulator's validation facts follow the OpenAPI files they were derived from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arclink.arm import types
from arclink.arm.specs import generate

SPECS = Path("/work/shared/specs")
TABLE = Path(types.__file__).parent / "specs" / "spec_table.json"


def test_table_is_current():
    if not SPECS.is_dir():
        pytest.skip("the OpenAPI copies are not on this machine; the committed table is used as is")
    assert generate.generate(SPECS) == json.loads(TABLE.read_text())


def test_every_spec_fact_is_enforced():
    table = json.loads(TABLE.read_text())
    by_type = {t.type: t for t in types.T.values()}
    for rtype, facts in table.items():
        rt = by_type[rtype]
        assert set(facts["readonly"]) <= set(rt.readonly), rtype
        for path, values in facts["enums"].items():
            kind = rt.fields.get(path)
            assert kind and kind[0] == "enum" and {v.lower() for v in values} <= {v.lower() for v in kind[1]}, (rtype, path)
