"""Every Azure fact arclink relies on, in one place.

Sources are named beside each fact (``shared/reference`` in the project's
research notes, the Microsoft Learn page this project implements, the ARM
OpenAPI files). Facts marked UNCONFIRMED were not found verbatim in a source;
they are our choice, and ``ARCLINK_CATALOGUE`` (a JSON file with the same keys
as ``overrides()`` accepts) can change them without a code change.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from arclink import net

# --- Private link: zones --------------------------------------------------------------
# "Azure Private Endpoint private DNS zone values", Hybrid + multicloud row.


@dataclass(frozen=True)
class ArcZone:
    key: str  # short handle used in messages and exports
    private_zone: str  # privatelink.<public>
    public_zone: str  # the public DNS zone forwarder


ARC_ZONES: tuple[ArcZone, ...] = (
    ArcZone("his", "privatelink.his.arc.azure.com", "his.arc.azure.com"),
    ArcZone("guestconfiguration", "privatelink.guestconfiguration.azure.com", "guestconfiguration.azure.com"),
    ArcZone("dp", "privatelink.dp.kubernetesconfiguration.azure.com", "dp.kubernetesconfiguration.azure.com"),
)
ARC_PRIVATE_ZONES = frozenset(z.private_zone for z in ARC_ZONES)
ARC_PUBLIC_ZONES = frozenset(z.public_zone for z in ARC_ZONES)

# The zone name people get wrong (MicrosoftDocs/azure-docs#115266; ALZ-Bicep PR #814).
WRONG_ZONE_NAMES = {
    "privatelink.kubernetesconfiguration.azure.com": "privatelink.dp.kubernetesconfiguration.azure.com",
}

ARC_RESOURCE_TYPE = "Microsoft.HybridCompute/privateLinkScopes"
ARC_GROUP_ID = "hybridcompute"
# The GET privateLinkResources answer (spec example 2025-01-13, zones per the docs table).
ARC_REQUIRED_MEMBERS = ("HybridCompute.ServerDP", "HybridCompute.K8sConfigurationDP", "HybridCompute.GuestConfigDP")
# Which required member serves each Arc zone (by the members' names: Server = his,
# K8sConfiguration = dp.kubernetesconfiguration, GuestConfig = guestconfiguration). UNCONFIRMED:
# Azure documents no table; a static ipConfiguration names one of these per address.
ARC_ZONE_MEMBERS = {
    "his": "HybridCompute.ServerDP",
    "dp": "HybridCompute.K8sConfigurationDP",
    "guestconfiguration": "HybridCompute.GuestConfigDP",
}

# The troubleshooting section's three lookups.
SEED_CHECK_NAMES = (
    "gbl.his.arc.azure.com",
    "agentserviceapi.guestconfiguration.azure.com",
    "dp.kubernetesconfiguration.azure.com",
)

# --- Regions -----------------------------------------------------------------------------
# name -> (display name, HIS short name). Short names: "Uses short names, for example eus for
# East US" (Arc gateway docs); the full table is UNCONFIRMED beyond eus/weu/wus2 seen in logs.
REGIONS: dict[str, tuple[str, str]] = {
    "eastus": ("East US", "eus"),
    "eastus2": ("East US 2", "eus2"),
    "westus": ("West US", "wus"),
    "westus2": ("West US 2", "wus2"),
    "westus3": ("West US 3", "wus3"),
    "centralus": ("Central US", "cus"),
    "southcentralus": ("South Central US", "scus"),
    "northcentralus": ("North Central US", "ncus"),
    "westcentralus": ("West Central US", "wcus"),
    "canadacentral": ("Canada Central", "cac"),
    "canadaeast": ("Canada East", "cae"),
    "brazilsouth": ("Brazil South", "brs"),
    "northeurope": ("North Europe", "neu"),
    "westeurope": ("West Europe", "weu"),
    "uksouth": ("UK South", "uks"),
    "ukwest": ("UK West", "ukw"),
    "francecentral": ("France Central", "frc"),
    "germanywestcentral": ("Germany West Central", "gwc"),
    "swedencentral": ("Sweden Central", "sdc"),
    "switzerlandnorth": ("Switzerland North", "szn"),
    "norwayeast": ("Norway East", "nwe"),
    "italynorth": ("Italy North", "itn"),
    "polandcentral": ("Poland Central", "plc"),
    "eastasia": ("East Asia", "ea"),
    "southeastasia": ("Southeast Asia", "sea"),
    "japaneast": ("Japan East", "jpe"),
    "japanwest": ("Japan West", "jpw"),
    "koreacentral": ("Korea Central", "krc"),
    "australiaeast": ("Australia East", "ae"),
    "australiasoutheast": ("Australia Southeast", "ase"),
    "centralindia": ("Central India", "inc"),
    "southindia": ("South India", "ins"),
    "uaenorth": ("UAE North", "uaen"),
    "southafricanorth": ("South Africa North", "san"),
}

# "currently in PREVIEW in all regions where Azure Arc-enabled Kubernetes is present, except
# South East Asia" (the seed, IMPORTANT box).
PREVIEW_UNAVAILABLE_REGIONS = frozenset({"southeastasia"})


def normalize_location(location: str | None) -> str:
    """ARM compares locations without case and spaces ("West Europe" == "westeurope")."""
    return (location or "").replace(" ", "").lower()


def region_short(location: str) -> str:
    loc = normalize_location(location)
    return _overrides().get("regionShortNames", {}).get(loc) or REGIONS.get(loc, (loc, loc))[1]


def known_region(location: str) -> bool:
    return normalize_location(location) in REGIONS


# --- The records a private endpoint to an Arc scope needs ------------------------------------


@dataclass(frozen=True)
class ArcRecord:
    fqdn: str  # the public name agents use
    zone: ArcZone
    label: str  # record name in the private zone ("@" for the apex)

    @property
    def private_fqdn(self) -> str:
        return self.zone.private_zone if self.label == "@" else f"{self.label}.{self.zone.private_zone}"


def arc_records(location: str) -> tuple[ArcRecord, ...]:
    """The FQDNs of a private endpoint's "DNS configuration" blade for a region.

    Source: the seed ("The FQDNs and IP addresses will change based on the region you selected
    for your private endpoint"), the research notes (gbl/regional his names, agentserviceapi and
    <region>-gas, <region>.dp). The dp apex record is UNCONFIRMED: we add it because the seed's
    troubleshooting expects ``dp.kubernetesconfiguration.azure.com`` to resolve privately.
    The reserved ``<geo>-ats.his`` name is deliberately absent (Azure documents it as unused).
    """
    loc = normalize_location(location)
    his, gc, dp = ARC_ZONES
    short = region_short(loc)
    return (
        ArcRecord("gbl.his.arc.azure.com", his, "gbl"),
        ArcRecord(f"{short}.his.arc.azure.com", his, short),
        ArcRecord("agentserviceapi.guestconfiguration.azure.com", gc, "agentserviceapi"),
        ArcRecord(f"{loc}-gas.guestconfiguration.azure.com", gc, f"{loc}-gas"),
        ArcRecord("dp.kubernetesconfiguration.azure.com", dp, "@"),
        ArcRecord(f"{loc}.dp.kubernetesconfiguration.azure.com", dp, loc),
    )


def regional_endpoints(location: str) -> dict[str, str]:
    """An agent's regional names, by role: what the discovery name tells it."""
    loc = normalize_location(location)
    his, gc, dp = ARC_ZONES
    return {"his": f"{region_short(loc)}.{his.public_zone}",
            "guestConfiguration": f"agentserviceapi.{gc.public_zone}",
            "config": f"{loc}.{dp.public_zone}"}


def config_endpoint(location: str) -> str:
    """The regional configuration data plane (``<region>.dp.kubernetesconfiguration.azure.com``)."""
    return regional_endpoints(location)["config"]


def arc_zone_for(name: str) -> ArcZone | None:
    """The Arc zone a public or privatelink name belongs to, if any."""
    n = name.rstrip(".").lower()
    for z in ARC_ZONES:
        for suffix in (z.private_zone, z.public_zone):
            if n == suffix or n.endswith("." + suffix):
                return z
    return None


# The name agents start from: it tells them their regional endpoints.
DISCOVERY_NAME = "gbl.his.arc.azure.com"


def ats_name(location: str) -> str:
    """The reserved ``<geography>-ats.his.arc.azure.com`` name for a region."""
    return f"{region_short(location)}-ats.{ARC_ZONES[0].public_zone}"


def is_ats_name(name: str) -> bool:
    """``<geography>-ats.his.arc.azure.com`` is reserved; it fails checks behind a private endpoint."""
    n = name.rstrip(".").lower()
    return n.endswith(".his.arc.azure.com") and n.split(".")[0].endswith("-ats")


# --- Endpoints that stay public -----------------------------------------------------------------
# Network configuration section; service tags per the seed's NSG table.

TAG_ENTRA = "AzureActiveDirectory"
TAG_ARM = "AzureResourceManager"
TAG_FRONTDOOR = "AzureFrontDoor.FirstParty"
TAG_MCR = "MicrosoftContainerRegistry"
TAG_ARC = "AzureArcInfrastructure"  # public Arc endpoints (his, guestconfiguration, dp)
REQUIRED_SERVICE_TAGS = (TAG_ENTRA, TAG_ARM, TAG_FRONTDOOR, TAG_MCR)
# AzureFrontDoor.FirstParty: "Allow (Both inbound and outbound)".
INBOUND_SERVICE_TAGS = (TAG_FRONTDOOR,)


@dataclass(frozen=True)
class PublicEndpoint:
    name: str
    tags: tuple[str, ...]
    purpose: str


def public_endpoints(location: str = "westeurope") -> tuple[PublicEndpoint, ...]:
    loc = normalize_location(location)
    return (
        PublicEndpoint("management.azure.com", (TAG_ARM,), "Azure Resource Manager"),
        PublicEndpoint("login.microsoftonline.com", (TAG_ENTRA,), "Microsoft Entra ID tokens"),
        PublicEndpoint(f"{loc}.login.microsoft.com", (TAG_ENTRA,), "Microsoft Entra ID tokens (regional)"),
        PublicEndpoint("login.windows.net", (TAG_ENTRA,), "Microsoft Entra ID tokens"),
        PublicEndpoint("mcr.microsoft.com", (TAG_MCR, TAG_FRONTDOOR), "agent images and Helm charts"),
        PublicEndpoint(f"{loc}.data.mcr.microsoft.com", (TAG_MCR, TAG_FRONTDOOR), "image layers (*.data.mcr)"),
    )


# Used by Cluster Connect and Custom Locations only; reported as unused under private link.
CLUSTER_CONNECT_ENDPOINTS = (
    "guestnotificationservice.azure.com",
    "sts.windows.net",
    "{loc}.obo.arc.azure.com",
)

# The seed's NSG table, exactly.
SEED_NSG_RULES = (
    {"name": "AllowAADOutboundAccess", "tag": TAG_ENTRA, "priority": 150, "directions": ("Outbound",)},
    {"name": "AllowAzOutboundAccess", "tag": TAG_ARM, "priority": 151, "directions": ("Outbound",)},
    {"name": "AllowAzureFrontDoorFirstPartyAccess", "tag": TAG_FRONTDOOR, "priority": 152, "directions": ("Inbound", "Outbound")},
    {"name": "AllowMCROutboundAccess", "tag": TAG_MCR, "priority": 153, "directions": ("Outbound",)},
)

# --- Extensions and features ------------------------------------------------------------------
# "these extensions support end-to-end connectivity through private links".
SUPPORTED_EXTENSIONS = {
    "microsoft.flux": "GitOps (Flux v2)",
    "microsoft.azuremonitor.containers": "Azure Monitor",
    "azuremonitor-containers": "Azure Monitor",  # the spelling of the ARM spec example
}
AZURE_MONITOR_EXTENSIONS = frozenset({"microsoft.azuremonitor.containers", "azuremonitor-containers"})
# "Network connectivity using private links for ... Azure Arc-enabled data services and Azure
# container Apps on Azure Arc are also currently not supported."
UNSUPPORTED_EXTENSIONS = {
    "microsoft.arcdataservices": "Azure Arc-enabled data services",
    "microsoft.app.environment": "Azure Container Apps on Azure Arc",
}
UNSUPPORTED_FEATURES = {
    "cluster-connect": "Cluster Connect",
    "custom-locations": "Custom locations",
}
# Services an extension talks to that need a private endpoint of their own.
EXTENSION_DEPENDENCIES = {
    "microsoft.azuremonitor.containers": ("Microsoft.Insights/privateLinkScopes", "Azure Monitor Private Link Scope"),
    "azuremonitor-containers": ("Microsoft.Insights/privateLinkScopes", "Azure Monitor Private Link Scope"),
}

# --- Providers and tools ----------------------------------------------------------------------
# "registered to Microsoft.kubernetes and Microsoft.kubernetes.Configurations" (the seed's spelling).
REQUIRED_PROVIDERS = ("Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration")
MIN_CONNECTEDK8S = (1, 3, 0)
# The page says "greater than 2.3.0"; connectedk8s 1.3.1 raised its minimum to 2.30.0. We read 2.30.0.
MIN_AZURE_CLI = (2, 30, 0)

# --- Private DNS zones -------------------------------------------------------------------------
# The "@" SOA record set every Azure private DNS zone has from creation (host and email are fixed by
# Azure; "The Host field in the SOA record isn't editable", Overview of private DNS records).
# Numbers as the portal shows a new zone: refresh 3600, retry 300, expire 2419200, minimum TTL 10, TTL 3600.
PRIVATE_ZONE_SOA: dict[str, Any] = {"host": "azureprivatedns.net", "email": "azureprivatedns-host.microsoft.com", "serialNumber": 1,
                    "refreshTime": 3600, "retryTime": 300, "expireTime": 2419200, "minimumTtl": 10, "ttl": 3600}
# Private zones hold no NS record sets (Azure Private DNS supports A, AAAA, CNAME, MX, PTR, SOA, SRV, TXT);
# Azure DNS answers an apex NS question with the SOA's host. UNCONFIRMED: our reading.
PRIVATE_ZONE_NS = "azureprivatedns.net"

# --- Modelled addresses ------------------------------------------------------------------------
AZURE_DNS_IP = "168.63.129.16"
# Well-known public resolvers people forward to by mistake.
PUBLIC_RESOLVERS = frozenset({"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "208.67.222.222"})


def public_address(name: str) -> str:
    """The modelled public address of a public name: stable, public, never dialled.

    Drawn from 20.0.0.0/8 (an Azure-owned block) by hashing the name, so every face
    agrees without a table.
    """
    digest = hashlib.sha256(name.rstrip(".").lower().encode()).digest()
    a, b, c = digest[0], digest[1], digest[2]
    return f"20.{a}.{b}.{max(c, 1) if c != 255 else 254}"


def is_private(address: str) -> bool:
    return net.is_private(address)


# --- Overrides (for unconfirmed facts) ----------------------------------------------------------


@lru_cache(maxsize=1)
def _overrides() -> dict:
    path = os.environ.get("ARCLINK_CATALOGUE")
    if not path:
        return {}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def unavailable_regions() -> frozenset[str]:
    extra = _overrides().get("previewUnavailableRegions")
    return frozenset(normalize_location(r) for r in extra) if extra is not None else PREVIEW_UNAVAILABLE_REGIONS
