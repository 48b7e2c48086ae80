"""The emulator refuses a write for a missing provider registration only where lint reports APL014.

For every topology of examples/ and every rule case whose subscriptions are declared, each
registered namespace is taken away in turn and the topology is loaded into the emulator's
store through its engine (``arm.seed.seed_topology``). A MissingSubscriptionRegistration
refusal of a resource must come with an APL014 error naming that resource (as ``resource``
or in ``related``), and an APL014 error on a resource that is not a scope (whose page-only
requirement ARM does not enforce) must come with a refusal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from arclink.arm.errors import ArmError
from arclink.arm.seed import seed_topology
from arclink.arm.store import Store
from arclink.model import rules
from arclink.model.errors import TopologyError
from arclink.model.loader import loads

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = sorted((ROOT / "examples").rglob("*.yaml")) + sorted((ROOT / "tests/rules/cases").glob("*/pass.yaml"))


def _variants(path: Path):
    doc = yaml.safe_load(path.read_text())
    for i, sub in enumerate(doc.get("subscriptions") or []):
        for ns in sub.get("registeredProviders") or []:
            changed = yaml.safe_load(path.read_text())
            changed["subscriptions"][i]["registeredProviders"] = [p for p in sub["registeredProviders"] if p != ns]
            yield ns, changed


def _refused(path: Path) -> bool:
    """Does the emulator refuse the unchanged topology (a broken example's hard error)?"""
    try:
        seed_topology(Store(), loads(path.read_text()).topology)
    except ArmError:
        return True
    return False


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_missing_registration_refused_by_the_emulator_iff_lint_reports_it(path):
    for ns, doc in _variants(path):
        try:
            ix = loads(yaml.safe_dump(doc))
        except TopologyError:
            continue
        found = [f for f in rules.run(ix, only=["APL014"])]
        named = {f.resource.lower() for f in found} | {r.lower() for f in found for r in f.related}
        try:
            seed_topology(Store(), ix.topology)
            refused = None
        except ArmError as exc:
            refused = exc
        if refused is not None and refused.code == "MissingSubscriptionRegistration":
            target = refused.message.split(":", 1)[0].lower()
            # lint names the resource ARM refused, or the resource it is a child of (a cluster's extension)
            owners = [n for n in named if "/providers/" in n]
            assert any(target == n or target.startswith(n + "/") for n in owners), f"{path.name} without {ns}: emulator refuses {target}, lint says {named}"
        non_scope = [f for f in found if "/microsoft.hybridcompute/privatelinkscopes/" not in f.resource.lower()]
        if non_scope:
            # a broken example may be refused first for its own hard error: then any refusal will do
            assert refused is not None and (refused.code == "MissingSubscriptionRegistration" or _refused(path)), \
                f"{path.name} without {ns}: lint reports {[f.message for f in non_scope]}, the emulator accepts it"
