"""APL022: connectedk8s >= 1.3.0 and Azure CLI >= 2.30.0 on clusters that use private link.

The page's "greater than 2.3.0" is read as 2.30.0: connectedk8s 1.3.1 raised its minimum
Azure CLI to 2.30.0. ``parse_version(text) -> tuple | None`` is shared with the onboarding
command; it accepts "1.3.0", "v1.3", "2.30.0b1" and returns None for anything else.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from arclink.model import catalogue as cat
from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding

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

# A pre-release or build suffix must start with a letter ("b1", "-beta.1", "+build"), so "2.x" is refused.
_VERSION = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+]?[A-Za-z][0-9A-Za-z.+-]*)?\s*$")


@lru_cache(maxsize=256)
def parse_version(text: str | None) -> tuple[int, int, int] | None:
    m = _VERSION.match(str(text)) if text is not None else None
    if not m:
        return None
    return tuple(int(g or 0) for g in m.groups())  # type: ignore[return-value]


def _show(v: tuple) -> str:
    return ".".join(map(str, v))


@lru_cache(maxsize=256)
def tool_problems(connectedk8s: str | None, azure_cli: str | None) -> tuple[str, ...]:
    """Problems with one pair of recorded versions (memoised: clusters share a handful of pairs)."""
    out = []
    checks = (("connectedk8s extension", "tools.connectedk8s", connectedk8s, cat.MIN_CONNECTEDK8S),
              ("Azure CLI", "tools.azureCli", azure_cli, cat.MIN_AZURE_CLI))
    for label, field, value, minimum in checks:
        if value is None:
            continue
        v = parse_version(value)
        if v is None:
            out.append(f"{field} '{value}' is not a version number (write it like {_show(minimum)})")
        elif v < minimum:
            out.append(f"{label} {value} is older than {_show(minimum)}")
    return tuple(out)


def check(ix: Index) -> Iterator[Finding]:
    for c in ix.clusters.values():
        tools = c.spec.tools
        if tools is None or not c.private_link:
            continue
        problems = tool_problems(tools.connectedk8s, tools.azure_cli)
        if problems:
            yield finding(RULE, c, f"cluster '{c.name}' is onboarded with private link, but {'; '.join(problems)}.")
