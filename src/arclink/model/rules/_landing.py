"""Where a site's Arc names land: the private endpoints, scopes and forwarders behind them.

Shared by the rules that ask "which private endpoint does this site use" (APL002, APL003,
APL010). One ``Landing`` per (site, region), memoised on the index, so a check that walks
100k clusters resolves each site once per region, never once per cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from arclink.model.index import ClusterR, Index, PeR, ScopeR, SiteR
from arclink.model.reach import endpoint_at
from arclink.model.resolve import Resolution
from arclink.model.rules.apl001 import arc_scopes
from arclink.model.trace import agent_names, site_resolution

MANUAL = "(manual records on the site's DNS server)"


@dataclass
class Landing:
    site: SiteR | None
    location: str
    names: list[tuple[str, Resolution, PeR | None]] = field(default_factory=list)

    @property
    def endpoints(self) -> list[PeR]:
        """Private endpoints the names resolve to, in first-seen order."""
        out = []
        for _, _, pe in self.names:
            if pe is not None and pe not in out:
                out.append(pe)
        return out

    @property
    def scopes(self) -> list[ScopeR]:
        """Azure Arc Private Link Scopes behind those endpoints, in first-seen order."""
        return arc_scopes(self.endpoints)

    def names_of_scope(self, scope: ScopeR) -> list[str]:
        return [f for f, _, pe in self.names if pe is not None and pe.scope is scope]

    def forwarders_for(self, scope: ScopeR) -> list[str]:
        """The DNS forwarders in Azure that the names of ``scope`` went through (or MANUAL)."""
        out = []
        for _, res, pe in self.names:
            if pe is not None and pe.scope is scope:
                label = res.forwarder or MANUAL
                if label not in out:
                    out.append(label)
        return out

    @property
    def private_names(self) -> list[str]:
        return [f for f, res, _ in self.names if res.private]

    @property
    def non_public_names(self) -> list[str]:
        """Names that do not resolve to public addresses (private, or failing inside private DNS)."""
        return [f for f, res, _ in self.names
                if not (res.rcode == "NOERROR" and res.addresses and not res.private and res.source == "public")]


def landing(ix: Index, site: SiteR | None, location: str) -> Landing:
    """Where the site's Arc names of one region land; memoised on the index."""
    def compute() -> Landing:
        hit = Landing(site, location)
        for fqdn in agent_names(location):
            res = site_resolution(ix, site, fqdn)
            pe = None
            for a in res.addresses:
                found = endpoint_at(ix, a)
                if found is not None:
                    pe = found[0]
                    break
            hit.names.append((fqdn, res, pe))
        return hit

    return ix.memo(("landing", site.name.lower() if site else "", location), compute)


def clusters_by_site_and_region(clusters: Iterable[ClusterR]) -> dict[tuple[SiteR | None, str], list[ClusterR]]:
    """Group clusters by (site, location), keeping declaration order."""
    groups: dict[tuple[SiteR | None, str], list[ClusterR]] = {}
    for c in clusters:
        groups.setdefault((c.site, c.location), []).append(c)
    return groups

