"""APL022: connectedk8s >= 1.3.0 and Azure CLI >= 2.30.0 on clusters that use private link.

The page's "greater than 2.3.0" is read as 2.30.0: connectedk8s 1.3.1 raised its minimum
Azure CLI to 2.30.0. ``parse_version(text) -> tuple | None`` (in ``model.onboarding``, shared
with the onboarding command and ``arclink explain``) accepts "1.3.0", "v1.3", "2.30.0b1" and
returns None for anything else.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index
from arclink.model.onboarding import cluster_tool_problems, parse_version, tool_problems
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL022",
    name="cli-versions",
    severity="warning",
    summary="Clusters onboarded with private link use the connectedk8s extension 1.3.0 or later and Azure CLI 2.30.0 "
            "or later.",
    seed="Configuring private links for Azure Arc-enabled Kubernetes clusters is supported starting from version 1.3.0 "
         "of the `connectedk8s` CLI extension, but requires Azure CLI version greater than 2.3.0.",
    fix="Upgrade the tools on the machine that runs the onboarding: az upgrade (Azure CLI 2.30.0 or later) and "
        "az extension update --name connectedk8s (1.3.0 or later), then record the versions under tools.",
)

def check(ix: Index) -> Iterator[Finding]:
    for c in ix.clusters.values():
        problems = cluster_tool_problems(c)
        if problems:
            yield finding(RULE, c, f"cluster {shown(c)} is onboarded with private link, but {'; '.join(problems)}.")


__all__ = ["RULE", "check", "parse_version", "tool_problems"]
