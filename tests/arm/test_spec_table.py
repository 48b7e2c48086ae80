"""The emulator's validation facts follow the OpenAPI files they were derived from.

The files are kept in the repository (``src/arclink/arm/specs/openapi/``), so the generated table
is checked against them on every machine.
"""

from __future__ import annotations

import json
from pathlib import Path

from arclink.arm import types
from arclink.arm.specs import generate

TABLE = Path(types.__file__).parent / "specs" / "spec_table.json"


def test_the_openapi_copies_are_the_default_input():
    names = {fname for fname, _ in generate.ROOTS.values()}
    assert generate.OPENAPI.is_dir() and names <= {p.name for p in generate.OPENAPI.glob("*.json")}
    sources = (generate.OPENAPI / "SOURCES.md").read_text()
    assert all(f"| {name} |" in sources for name in names)  # each input's provenance is recorded


def test_table_is_current():
    table = json.loads(TABLE.read_text())
    assert generate.generate(generate.OPENAPI) == table
    assert set(table) == set(generate.ROOTS) and all(facts["readonly"] or facts["enums"] for facts in table.values())


def test_every_spec_fact_is_enforced():
    table = json.loads(TABLE.read_text())
    by_type = {t.type: t for t in types.T.values()}
    for rtype, facts in table.items():
        rt = by_type[rtype]
        assert set(facts["readonly"]) <= set(rt.readonly), rtype
        for path, values in facts["enums"].items():
            kind = rt.fields.get(path)
            assert kind and kind[0] == "enum" and {v.lower() for v in values} <= {v.lower() for v in kind[1]}, (rtype, path)
