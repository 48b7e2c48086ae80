"""A new ``Index`` from the last one and a few changed connected clusters, in time that follows the change.

Clusters are most of an estate (100k of them beside a few hundred VNets and zones) and most
of its writes (onboarding, extensions). Nothing else in the model depends on a cluster: VNets,
zones, sites, forwarders, endpoints, resolution and DNS views are the same objects in both
versions. What a cluster write changes, and what ``patch_clusters`` therefore makes anew:

- the cluster table (a copy of the dict, C speed, ~1 ms per 100k clusters; its name lists are
  shared but for the names that changed) and the topology document's cluster list;
- the cluster lists of the sites and scopes the cluster leaves or joins: replaced by new lists
  in topology order, never changed in place, so a reader iterating the old list keeps its version;
- the memo: entries whose tag is in ``CLUSTER_FREE`` (resolution, landings, a site's reachable
  endpoint types) carry over, every other entry is computed again on the new index.

``Index.by_id`` is the builder's table: clusters patched in are not added to it (nothing reads it
after a build).

``patch_clusters`` returns None where the change would move other clusters (a cluster deleted,
or its filled-in address would take another place in its site's sequence, or its name comes to
be shared and so qualified in messages, or a subscription appears): the caller builds the index
from scratch, which stays the reference (tests/model/test_incremental_live.py holds them equal).
"""

from __future__ import annotations

import bisect
from typing import Any

import msgspec

from arclink.model import schema
from arclink.model.arm_references import drop_dangling_cluster
from arclink.model.errors import TopologyError
from arclink.model.index import ClusterPlacement, Index, _Builder
from arclink.model.resolved import (AGENT_KEYS, DEFAULT_SUBSCRIPTION, AgentKeys, ClusterR, Resources, ScopeR, SiteR,
                                    agent_key)

__all__ = ["CLUSTER_FREE", "patch_clusters"]

# memo tags whose values no cluster changes: kept across a clusters-only change
CLUSTER_FREE = frozenset({"resolution", "landing", "apl011"})

_PREFIX = len("$.clusters[")


def _position(r: ClusterR) -> int:
    return int(r.path[_PREFIX:-1])


def _auto(c: schema.Cluster, site: SiteR | None) -> bool:
    """Whether the index fills in this cluster's address (the next one in its site's sequence)."""
    return not c.address and site is not None and bool(site.networks)


class _AutoPlaces:
    """Each cluster's place in its site's sequence of filled-in addresses, and each site's count so far.

    Shared by the versions patched from one rebuild (a patch only appends to a sequence, never moves a
    place), so a patch does not count a site's clusters again: 100k clusters may share one site."""

    def __init__(self, ix: Index) -> None:
        self.place: dict[str, int] = {}
        self.count: dict[str, int] = {}
        for site in ix.sites.values():
            n = 0
            for c in site.clusters:
                if _auto(c.spec, c.site):
                    self.place[c.id.lower()] = n
                    n += 1
            self.count[site.name.lower()] = n


class _Patch:
    def __init__(self, old: Index) -> None:
        ix = Index.__new__(Index)
        ix.__dict__.update(old.__dict__)  # tables and cached derivations shared; what changes is replaced below
        clusters: Resources[ClusterR] = Resources()
        dict.update(clusters, old.clusters)
        clusters._names = dict(old.clusters._names)
        ix.clusters = clusters
        ix._memo = {k: v for k, v in old._memo.items() if isinstance(k, tuple) and k and k[0] in CLUSTER_FREE}
        ix.topology = msgspec.structs.replace(old.topology, clusters=list(old.topology.clusters))
        self.ix = ix
        places = old.__dict__.get("_auto_places")
        self.places: _AutoPlaces = places if places is not None else _AutoPlaces(old)
        ix.__dict__["_auto_places"] = self.places
        self.new_places: dict[str, int] = {}  # made part of ``places`` once the whole patch holds
        self.new_counts: dict[str, int] = {}
        self.copied: set[int] = set()  # ids of the site and scope objects whose list is already a copy here
        # the agent key table, carried over where no key is shared (then which cluster holds a key
        # needs no order); None: computed again on the new version when asked
        keys = old._memo.get(AGENT_KEYS)
        self.keys: AgentKeys | None = None
        if isinstance(keys, AgentKeys) and not keys.shared:
            self.keys = AgentKeys(keys)

    def unkey(self, r: ClusterR) -> None:
        der = agent_key(r)
        if self.keys is not None and der is not None and self.keys.get(der) is r:
            del self.keys[der]

    def key(self, r: ClusterR) -> None:
        der = agent_key(r)
        if self.keys is not None and der is not None:
            if der in self.keys:
                self.keys = None  # now shared: order decides, so the table is made again
            else:
                self.keys[der] = r

    def own(self, holder: SiteR | ScopeR | None) -> list[ClusterR]:
        """``holder.clusters`` as a list of this version's own."""
        if holder is None:
            return []
        if id(holder) not in self.copied:
            self.copied.add(id(holder))
            holder.clusters = list(holder.clusters)
        return holder.clusters

    def names_of(self, name: str) -> list[ClusterR]:
        key = name.lower()
        names = self.ix.clusters._names
        same = names[key] = list(names.get(key, ()))
        return same


def _spec(entry: dict[str, Any], ix: Index) -> schema.Cluster:
    near = ((entry.get("subscription") or DEFAULT_SUBSCRIPTION).lower(), (entry.get("resourceGroup") or "").lower())
    sites = {k: s.networks for k, s in ix.sites.items()}
    drop_dangling_cluster(entry, lambda ref: ix.scopes.find(ref, near) is not None, sites)
    return msgspec.convert(entry, schema.Cluster)


def patch_clusters(old: Index, changes: list[tuple[str, dict[str, Any] | None]]) -> Index | None:
    """The index with each (lower-case cluster id, topology cluster entry or None: deleted) applied,
    or None where only a rebuild gives the right index (see the module's docstring)."""
    patch = _Patch(old)
    ix = patch.ix
    builder = _Builder.__new__(_Builder)
    builder.t, builder.ix, builder._placements = ix.topology, ix, {}
    by_id, ix.by_id = ix.by_id, {}  # the builder's duplicate check is against other clusters: done below
    try:
        for key, entry in changes:
            if not _apply(patch, builder, key, entry):
                return None
    except (TopologyError, msgspec.ValidationError):
        return None  # the rebuild says what is wrong (or keeps the last good model)
    finally:
        ix.by_id = by_id
    if patch.keys is not None:
        ix._memo[AGENT_KEYS] = patch.keys
    patch.places.place.update(patch.new_places)
    patch.places.count.update(patch.new_counts)
    return ix


def _apply(patch: _Patch, builder: _Builder, key: str, entry: dict[str, Any] | None) -> bool:
    ix = patch.ix
    prior: ClusterR | None = dict.get(ix.clusters, key)
    if entry is None:
        return prior is None  # a deletion moves the clusters after it: rebuild
    if (entry.get("subscription") or "").lower() not in ix.subscriptions:
        return False
    spec = _spec(entry, ix)
    site = ix.sites.get(spec.site.lower()) if spec.site else None
    auto_index: int | None = None
    if prior is None:
        if ix.clusters.named(spec.name):
            return False  # names shared across resource groups are qualified in messages: rebuild
        position = len(ix.topology.clusters)
        if site is not None and _auto(spec, site):
            name = site.name.lower()
            auto_index = patch.new_counts.get(name, patch.places.count.get(name, 0))
            patch.new_counts[name] = auto_index + 1
            patch.new_places[key] = auto_index
        ix.topology.clusters.append(spec)
    else:
        position = _position(prior)
        was_auto = _auto(prior.spec, prior.site)
        if was_auto != _auto(spec, site) or (was_auto and prior.site is not site):
            return False  # the addresses filled in after it would move
        if was_auto:
            auto_index = patch.new_places.get(key, patch.places.place.get(key))
        ix.topology.clusters[position] = spec
        for holder in (prior.site, prior.scope):
            if holder is not None:
                patch.own(holder).remove(prior)
        patch.names_of(prior.name).remove(prior)  # its key stays in the table: the new one takes its place
        patch.unkey(prior)
    # the builder appends to the site's and scope's lists: give it this version's copies, then put it in order
    if site is not None:
        patch.own(site)
    scope = ix.scopes.find(spec.private_link_scope_resource_id,
                           ((entry.get("subscription") or "").lower(), (entry.get("resourceGroup") or "").lower()))
    patch.own(scope)
    names = patch.names_of(spec.name)
    r = builder.add_cluster(position, spec, ClusterPlacement(), auto_index=auto_index)
    patch.key(r)
    if prior is not None:
        r.qualifier = prior.qualifier
        names.sort(key=_position)
    for holder in (r.site, r.scope):
        if holder is not None:
            lst = patch.own(holder)
            lst.pop()
            lst.insert(bisect.bisect(lst, position, key=_position), r)
    return True

