"""The rules resolve names per site, not per cluster: their cost does not grow with the clusters."""

from __future__ import annotations

import copy

import yaml

from arclink.model import rules, trace
from arclink.model.loader import loads

from rules_fixtures import GOOD_TEXT, good

APL001_013 = [f"APL{n:03d}" for n in range(1, 14)]
APL014_025 = [f"APL{n:03d}" for n in range(14, 26)]


def test_resolution_is_per_site_not_per_cluster(monkeypatch):
    calls = []
    real = trace.resolve
    monkeypatch.setattr(trace, "resolve", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    doc = good()
    base = doc["clusters"]
    doc["clusters"] = [{**copy.deepcopy(c), "name": f"{c['name']}-{n}"} for n in range(40) for c in base]
    for c in doc["clusters"][::2]:
        c.update(privateLinkState="Disabled", privateLinkScopeResourceId=None)
    rules.run(loads(yaml.safe_dump(doc, sort_keys=False)), only=APL001_013)
    names = len(trace.agent_names("westeurope"))
    assert 0 < len(calls) <= len(doc["sites"]) * names


def _many_clusters(per_site: int) -> str:
    lines = []
    for site in ("store-amsterdam", "store-rotterdam", "store-utrecht"):
        for k in range(per_site):
            lines.append(f"  - {{name: k3s-{site}-{k}, site: {site}, privateLinkState: Enabled, "
                         f"privateLinkScopeResourceId: pls-arc-retail, tools: {{connectedk8s: 1.11.2, azureCli: 2.70.0}}}}\n")
            lines.append(f"  - {{name: k3s-{site}-lab-{k}, site: {site}}}\n")
    return GOOD_TEXT + "".join(lines)


def test_resolutions_do_not_grow_with_clusters(monkeypatch):
    calls = []
    real = trace.resolve

    def counting(ix, view, name, qtype="A"):
        calls.append((view.kind, view.name, name))
        return real(ix, view, name, qtype)

    monkeypatch.setattr(trace, "resolve", counting)
    counts = []
    for per_site in (5, 200):
        calls.clear()
        found = rules.run(loads(_many_clusters(per_site)), only=APL014_025)
        counts.append(len(calls))
        assert sum(f.rule == "APL023" for f in found) == 3 * per_site  # every lab cluster is refused
    assert counts[0] == counts[1]
    assert counts[1] <= 3 * 12  # three sites, a dozen names each at most
