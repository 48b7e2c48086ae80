"""APL013: only Flux v2 and Azure Monitor are validated end to end over private link (warning).

A private-link cluster's extensions outside ``catalogue.SUPPORTED_EXTENSIONS`` are reported,
except those APL012 already reports as unsupported.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from arclink.model import catalogue as cat
from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL013",
    name="unvalidated-extensions",
    severity="warning",
    summary="Extensions other than GitOps (Flux v2) and Azure Monitor are not validated end to end over private link.",
    seed="On Azure Arc-enabled Kubernetes clusters configured with private links, these extensions support end-to-end "
         "connectivity through private links:",
    fix="Test these extensions end to end over the private endpoint before relying on them: each may need public "
        "endpoints or private endpoints of its own services.",
)


def unvalidated(extensions: Iterable[str]) -> list[str]:
    return [e for e in extensions
            if e.lower() not in cat.SUPPORTED_EXTENSIONS and e.lower() not in cat.UNSUPPORTED_EXTENSIONS]


def check(ix: Index) -> Iterator[Finding]:
    for c in ix.clusters.values():
        if not c.private_link:
            continue
        other = unvalidated(c.spec.extensions)
        if other:
            yield finding(RULE, c, f"private-link cluster {shown(c)} runs {', '.join(other)}, which is not validated "
                                   f"end to end over private link (only GitOps (Flux v2) and Azure Monitor are).")
