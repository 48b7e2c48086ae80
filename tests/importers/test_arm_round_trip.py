"""Round trip through ARM: every example applied to the emulator, read back by ``import azure``.

The import goes through the emulator's token service with its service principal, the code path
real Azure takes. Lint of the imported file gives the original's findings; ``diff`` finds nothing.

An example that breaks a rule ARM itself enforces (``arm.resources.ENFORCED_RULES``: APL001, APL004,
APL012...) cannot be deployed, in Azure as in the emulator: apply stops at the refused resource.
For those the round trip is of what ARM accepted: the import, lint and diff agree with the
emulator's own view of its state.
"""

from __future__ import annotations

import json

import pytest
from tests.importers.importers_fixtures import EXAMPLES, arclink, control, findings


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    from arclink.stack import start_services

    svc = start_services(tmp_path_factory.mktemp("imp") / "state", in_memory=True)
    yield svc.state_dir / "endpoints.json"
    svc.stop()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_apply_then_import_gives_the_same_findings_and_no_diff(emulator, example, tmp_path):
    control(emulator, "POST", "reset")
    original = example
    from arclink.arm.resources import ENFORCED_RULES

    enforced = {rule.id for rule in ENFORCED_RULES} & {f[0] for f in findings(str(original)) if f[1] == "error"}
    r = arclink("apply", original, "--emulator", emulator, "--force", "--quiet")
    if enforced:
        assert r.returncode == 1 and "failed" in r.stderr, r.stdout + r.stderr
        return partial_round_trip(emulator, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / "imported.yaml"
    r = arclink("import", "azure", "--emulator", emulator, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "read " in r.stderr and " requests" in r.stderr
    assert findings(str(out)) == findings(str(original))
    d = arclink("diff", original, out, "--output", "json")
    assert d.returncode == 0, d.stdout + d.stderr
    assert json.loads(d.stdout)["resources"] == []
    # the live source directly, and lint importing on the fly
    assert arclink("diff", original, f"emulator:{emulator}").returncode == 0
    assert findings(f"emulator:{emulator}") == findings(str(original))
    assert findings("", "--emulator", str(emulator)) == findings(str(original))  # the control API's view
    # nothing changed: the same bytes
    again = tmp_path / "again.yaml"
    assert arclink("import", "azure", "--emulator", emulator, "-o", again, "--quiet").returncode == 0
    assert again.read_bytes() == out.read_bytes()


def partial_round_trip(emulator, tmp_path):
    out = tmp_path / "imported.yaml"
    r = arclink("import", "azure", "--emulator", emulator, "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    assert findings(str(out)) == findings("", "--emulator", str(emulator))
    d = arclink("diff", out, f"emulator:{emulator}")
    assert d.returncode == 0, d.stdout + d.stderr
