"""Tenants, subscriptions and locations: what ``az account`` and ``az account list-locations`` read.

The subscriptions are the emulator's default one and every one a resource names; each
takes its display name and tenant from the topology it was loaded from (store meta
``subscriptions``), else the defaults. Locations are the catalogue's regions, in ARM's
shape (``displayName``, ``regionalDisplayName``, ``metadata``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arclink.model import catalogue as cat

DEFAULT_DISPLAY_NAME = "arclink emulator"
META_KEY = "subscriptions"  # store meta: {subscription id lower: {"name", "tenantId"}}

# region -> (geography group, geography): ARM's regionalDisplayName is "(<group>) <display name>"
_GEO_PREFIXES = (
    (("eastus", "westus", "centralus", "southcentralus", "northcentralus", "westcentralus"), ("US", "United States")),
    (("canada",), ("Canada", "Canada")),
    (("brazil",), ("South America", "Brazil")),
    (("uk",), ("Europe", "United Kingdom")),
    (("france",), ("Europe", "France")),
    (("germany",), ("Europe", "Germany")),
    (("sweden",), ("Europe", "Sweden")),
    (("switzerland",), ("Europe", "Switzerland")),
    (("norway",), ("Europe", "Norway")),
    (("italy",), ("Europe", "Italy")),
    (("poland",), ("Europe", "Poland")),
    (("northeurope", "westeurope"), ("Europe", "Europe")),
    (("japan",), ("Asia Pacific", "Japan")),
    (("korea",), ("Asia Pacific", "Korea")),
    (("australia",), ("Asia Pacific", "Australia")),
    (("centralindia", "southindia"), ("Asia Pacific", "India")),
    (("eastasia", "southeastasia"), ("Asia Pacific", "Asia Pacific")),
    (("uae",), ("Middle East", "UAE")),
    (("southafrica",), ("Africa", "South Africa")),
)


def _geo(region: str) -> tuple[str, str]:
    for prefixes, geo in _GEO_PREFIXES:
        if any(region.startswith(p) for p in prefixes):
            return geo
    return ("Other", "Other")


def locations(sub: str) -> dict[str, Any]:
    """``GET /subscriptions/{id}/locations``: the catalogue's regions (physical, recommended)."""
    out = []
    for name, (display, _short) in cat.REGIONS.items():
        group, geography = _geo(name)
        out.append({"id": f"/subscriptions/{sub}/locations/{name}", "name": name, "type": "Region",
                    "displayName": display, "regionalDisplayName": f"({group}) {display}",
                    "metadata": {"regionType": "Physical", "regionCategory": "Recommended",
                                 "geography": geography, "geographyGroup": group, "pairedRegion": []}})
    return {"value": out}


def _known(meta: Mapping[str, Any]) -> dict[str, Any]:
    known = meta.get(META_KEY)
    return known if isinstance(known, dict) else {}


def subscription(sub: str, meta: Mapping[str, Any], default_tenant: str) -> dict[str, Any]:
    info = _known(meta).get(sub.lower()) or {}
    return {"id": f"/subscriptions/{sub}", "authorizationSource": "RoleBased", "managedByTenants": [],
            "subscriptionId": sub, "tenantId": info.get("tenantId") or default_tenant,
            "displayName": info.get("name") or DEFAULT_DISPLAY_NAME, "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"}}


def subscriptions(default_sub: str, resource_keys: list[str], meta: Mapping[str, Any],
                  default_tenant: str) -> dict[str, Any]:
    """The default subscription, every one the topology names, and every one a resource lives in."""
    subs = {default_sub.lower(): default_sub}
    for info in _known(meta).values():
        if isinstance(info, dict) and info.get("id"):
            subs.setdefault(info["id"].lower(), info["id"])
    for k in resource_keys:
        parts = k.split("/")
        if len(parts) > 2 and parts[1] == "subscriptions":
            subs.setdefault(parts[2], parts[2])
    return {"value": [subscription(s, meta, default_tenant) for s in subs.values()]}


def tenants(default_tenant: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    ids = {default_tenant.lower(): default_tenant}
    for info in _known(meta).values():
        if isinstance(info, dict) and info.get("tenantId"):
            ids.setdefault(info["tenantId"].lower(), info["tenantId"])
    return {"value": [{"id": f"/tenants/{t}", "tenantId": t, "tenantCategory": "Home", "country": "US",
                       "countryCode": "US", "displayName": DEFAULT_DISPLAY_NAME, "domains": ["arclink.invalid"],
                       "defaultDomain": "arclink.invalid", "tenantType": "AAD"} for t in ids.values()]}


def names_from_topology(subs: list[Any]) -> dict[str, Any]:
    """The store meta for a topology's ``subscriptions`` (display names and tenants)."""
    return {s.id.lower(): {"id": s.id, "name": s.name or "", "tenantId": s.tenant_id or ""} for s in subs}
