"""Retries: with the emulator answering 30% of reads with 429 and Retry-After, import finishes with the
same result (the topology it was seeded with, twice the same bytes) and says how many answers were 429."""

from __future__ import annotations

import re

import pytest

from tests.importers.importers_fixtures import ROOT, arclink

GOOD = ROOT / "examples" / "good.yaml"


@pytest.fixture
def throttled_emulator(tmp_path, monkeypatch):
    from arclink.arm.chaos import ENV
    from arclink.stack import start_services

    monkeypatch.setenv(ENV, "0.3")
    svc = start_services(tmp_path / "state", in_memory=True, topology=str(GOOD))
    yield svc.state_dir / "endpoints.json"
    svc.stop()


def test_import_under_429s_gives_the_same_result(throttled_emulator, tmp_path):
    outs = []
    for n in (1, 2):
        out = tmp_path / f"imported-{n}.yaml"
        r = arclink("import", "azure", "--emulator", throttled_emulator, "-o", out)
        assert r.returncode == 0, r.stderr
        m = re.search(r"in (\d+) requests \((\d+) throttled and retried", r.stderr)
        assert m, r.stderr
        requests, throttled = int(m.group(1)), int(m.group(2))
        assert throttled >= requests * 0.25, r.stderr  # about 30% of the reads were answered 429
        outs.append(out.read_bytes())
        d = arclink("diff", GOOD, out)
        assert d.returncode == 0, d.stdout + d.stderr
    assert outs[0] == outs[1]


def test_the_switch_refuses_a_share_that_is_not_one(tmp_path, monkeypatch):
    from arclink.arm.chaos import ENV
    from arclink.stack import StackError, start_services

    monkeypatch.setenv(ENV, "lots")
    with pytest.raises(StackError, match=ENV):
        start_services(tmp_path / "state", in_memory=True)
