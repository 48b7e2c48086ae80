"""One model: every example topology gives the same findings linted as a file and loaded into the
emulator, and the ones Azure would refuse are refused at write time with the rule's id."""

from __future__ import annotations

from pathlib import Path

import pytest

from arclink.arm.errors import ArmError
from arclink.arm.live import StoreLiveState
from arclink.arm.seed import seed_topology
from arclink.arm.store import Store
from arclink.model import loader, rules

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").rglob("*.yaml"))
HARD = {r.meta.id for r in rules.all_rules() if r.meta.hard}


def _findings(ix) -> set:
    return {(f.rule, f.resource.lower()) for f in rules.run(ix)}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_through_the_emulator(path):
    ix = loader.load(path)
    expected = _findings(ix)
    store = Store(None)
    try:
        seed_topology(store, ix.topology)
    except ArmError as exc:
        refused = exc.message.split(":", 2)[1].strip()
        # refused only for a hard rule the file breaks
        assert refused in HARD and refused in {r for r, _ in expected}, exc.message
        return
    live = StoreLiveState(store)
    try:
        assert _findings(live.index) == expected
    finally:
        live.close()
