"""APL019 beyond its example cases: a disconnected endpoint connection says to recreate the endpoint."""

from __future__ import annotations

from rules_fixtures import edited, run_text


def test_apl019_disconnected_says_recreate():
    text = edited(("    groupIds: [hybridcompute]\n", "    groupIds: [hybridcompute]\n    connectionState: Disconnected\n"))
    (f,) = run_text(text, "APL019")
    assert "is Disconnected" in f.message and "recreate the endpoint" in f.message
