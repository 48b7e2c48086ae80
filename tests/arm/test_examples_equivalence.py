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
from arclink.model.rules import apl001

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


def test_apl001_refusal_only_for_the_later_scope_of_an_imported_vnet(tmp_path):
    """State imported from elsewhere may already hold two scopes in one virtual network: the endpoint of
    the scope that holds it stays writable, the other scope's endpoint is refused (lint's own helper)."""
    import copy

    import yaml

    from arclink.arm import types
    from arclink.arm.engine import Engine
    from arclink.arm.routes import parse

    doc = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "broken" / "two-scopes-one-vnet.yaml").read_text())
    doc["privateEndpoints"] = [pe for pe in doc["privateEndpoints"] if pe["name"] != "pe-arc-retail-eu2"]
    legal = tmp_path / "one-scope.yaml"
    legal.write_text(yaml.safe_dump(doc))
    store = Store(None)
    seed_topology(store, loader.load(legal).topology)
    first_id = next(k for k in store.bodies if k.endswith("/privateendpoints/pe-arc-retail"))
    scope2 = next(k for k in store.bodies if k.endswith("/privatelinkscopes/pls-arc-retail-eu2"))
    # the second scope's endpoint arrives as `state import` would bring it: stored, no write-time checks
    second = copy.deepcopy(store.get_obj(first_id))
    second["name"] = "pe-arc-retail-eu2"
    second["id"] = second["id"].rsplit("/", 1)[0] + "/pe-arc-retail-eu2"
    for conn in second["properties"]["privateLinkServiceConnections"]:
        conn["properties"]["privateLinkServiceId"] = scope2
    store.put(second["id"], second)
    eng = Engine(store)

    def rewrite(body):
        route = parse(body["id"])
        body = {k: v for k, v in copy.deepcopy(body).items() if k not in ("id", "type", "name", "etag")}
        body["tags"] = {"touched": "yes"}
        eng.put(route, types.lookup(route.type_key), body, "seed")

    rewrite(store.get_obj(first_id))
    with pytest.raises(ArmError) as err:
        rewrite(second)
    assert err.value.code == apl001.RULE.arm_code
    assert "'pls-arc-retail'" in err.value.message and "pls-arc-retail-eu2" not in err.value.message
