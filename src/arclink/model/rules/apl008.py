"""APL008: the site firewall lets the public Azure services through.

Only sites that have a private-link cluster and a modelled firewall are checked: the four tags
and Front Door inbound are the page's private-link requirement, and a site of public clusters
only follows the public network requirements, which are not modelled. Outbound TCP 443 to every
tag of ``catalogue.REQUIRED_SERVICE_TAGS`` and inbound from ``catalogue.INBOUND_SERVICE_TAGS``
(AzureFrontDoor.FirstParty, "Both inbound and outbound" in the seed's table). The decision is
``model.onboarding.firewall_gaps``, the same that ``arclink explain`` shows as the firewall hops.
"""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index, SiteR
from arclink.model.onboarding import firewall_gaps, needs_service_tags
from arclink.model.rules import Finding, Rule, finding

RULE = Rule(
    id="APL008",
    name="firewall-service-tags",
    severity="error",
    summary="The on-premises firewall of a site with private-link clusters allows TCP 443 out to Entra ID, ARM, MCR and Front Door, and in from Front Door.",
    seed="Traffic to Microsoft Entra ID, Azure Resource Manager, and Microsoft Container Registry service tags must be "
         "allowed through your on-premises network firewall during the preview.",
    fix="Allow outbound TCP 443 to the service tags AzureActiveDirectory, AzureResourceManager, "
        "MicrosoftContainerRegistry and AzureFrontDoor.FirstParty, and inbound from AzureFrontDoor.FirstParty, "
        "in the site firewall (the IP ranges are in the downloadable service tag file, updated monthly).",
)


def missing(site: SiteR) -> tuple[list[str], list[str]]:
    """(outbound tags not allowed, inbound tags not allowed) for a site's firewall."""
    return firewall_gaps(site)


def check(ix: Index) -> Iterator[Finding]:
    for site in ix.sites.values():
        if site.spec.firewall is None or not needs_service_tags(ix.clusters_in(site)):
            continue
        out, inb = missing(site)
        if not out and not inb:
            continue
        parts = []
        if out:
            parts.append(f"outbound TCP 443 to {', '.join(out)}")
        if inb:
            parts.append(f"inbound from {', '.join(inb)}")
        yield finding(RULE, site, f"the firewall of site '{site.name}' does not allow {' or '.join(parts)}.")
