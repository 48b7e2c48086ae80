"""APL012: Cluster Connect, custom locations, Arc data services and Container Apps are unsupported with private link.

Write-time helpers for the emulator (no index needed):

``feature_error(private_link_state, features) -> str | None``
    The CLI's ``InvalidArgumentValueError`` text (reference/cli-and-agents.md §1.6) when
    ``cluster-connect`` or ``custom-locations`` is requested on a private-link cluster.
``extension_error(private_link_state, extension_type) -> str | None``
    The refusal for an Arc data services or Container Apps extension on a private-link cluster.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from arclink.model import catalogue as cat
from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

CLI_FEATURES_MESSAGE = ("The features 'cluster-connect' and 'custom-locations' cannot be enabled for a private link "
                        "enabled connected cluster.")

RULE = Rule(
    id="APL012",
    name="unsupported-with-private-link",
    severity="error",
    summary="Cluster Connect, custom locations, Arc data services and Container Apps are not used on a private-link cluster.",
    seed="The Cluster Connect (and hence the Custom location) feature is currently not supported on Azure Arc-enabled "
         "Kubernetes clusters with private connectivity enabled.",
    fix="Remove these features and extensions from the private-link cluster, or run them on a cluster without private "
        "link. The CLI says: " + CLI_FEATURES_MESSAGE,
    hard=True,
    arm_code="FeatureNotSupportedWithPrivateLink",
)


def _enabled(state: str | None) -> bool:
    return (state or "").lower() == "enabled"


def feature_error(private_link_state: str | None, features: Iterable[str]) -> str | None:
    """The refusal for unsupported features on a private-link cluster, else None."""
    if not _enabled(private_link_state):
        return None
    bad = [f for f in features if f.lower() in cat.UNSUPPORTED_FEATURES]
    return CLI_FEATURES_MESSAGE if bad else None


def extension_error(private_link_state: str | None, extension_type: str) -> str | None:
    """The refusal for an unsupported extension type on a private-link cluster, else None."""
    if not _enabled(private_link_state):
        return None
    label = cat.UNSUPPORTED_EXTENSIONS.get((extension_type or "").lower())
    if label is None:
        return None
    return (f"The extension type '{extension_type}' ({label}) is not supported on a private link enabled connected "
            f"cluster: network connectivity using private links for it is currently not supported.")


def check(ix: Index) -> Iterator[Finding]:
    for c in ix.clusters.values():
        if not c.private_link:
            continue
        feats = [cat.UNSUPPORTED_FEATURES[f.lower()] for f in c.spec.features if f.lower() in cat.UNSUPPORTED_FEATURES]
        exts = [f"{e} ({cat.UNSUPPORTED_EXTENSIONS[e.lower()]})" for e in c.spec.extensions
                if e.lower() in cat.UNSUPPORTED_EXTENSIONS]
        if not feats and not exts:
            continue
        what = ", ".join(feats + exts)
        yield finding(RULE, c, f"private-link cluster {shown(c)} uses {what}, which private link does not support.")
