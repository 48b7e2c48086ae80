"""ARM JSON (from ARM or Resource Graph) -> the tidy topology an import writes."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from arclink.importers.canonical import tidy
from arclink.importers.errors import ImportFailure
from arclink.model import schema
from arclink.model.arm_codec import topology_from_resources
from arclink.model.errors import TopologyError


def to_topology(resources: Iterable[dict], onprem: dict | None = None) -> schema.Topology:
    """What the resources describe, as ``arclink.model.arm_codec`` reads them, tidied for a file."""
    resources = list(resources)
    onprem = dict(onprem or {})
    if not onprem.get("defaultSubscription"):
        # On-premises facts name no subscription: they land where most of the deployment is.
        subs = Counter(str(r.get("id", "")).split("/")[2].lower() for r in resources
                       if "namespace" not in r and str(r.get("id", "")).lower().startswith("/subscriptions/"))
        if subs:
            first = {str(r["id"]).split("/")[2].lower(): str(r["id"]).split("/")[2] for r in resources}
            onprem["defaultSubscription"] = first[subs.most_common(1)[0][0]]
    try:
        return tidy(topology_from_resources(resources, onprem))
    except TopologyError as exc:
        raise ImportFailure(f"what was read does not form a topology: {exc}") from None
