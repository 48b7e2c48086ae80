"""A new ``Index`` from the last one and a few changed connected clusters, in time that follows the change.

Clusters are most of an estate (100k of them beside a few hundred VNets and zones) and most
of its writes (onboarding, extensions). Nothing else in the model depends on a cluster: VNets,
zones, sites, forwarders, endpoints, resolution and DNS views are the same objects in both
versions. What a cluster write changes, and what ``patch_clusters`` therefore makes anew:

- the cluster table (a copy of the dict, C speed, ~1 ms per 100k clusters; its name lists are
  shared but for the names that changed) and the topology document's cluster list;
- the cluster lists of the sites and scopes the cluster leaves or joins: this version's own lists
  in topology order (``Index.clusters_in``); the site and scope objects are shared with older
  versions and never changed, so a reader holding an older version keeps seeing its lists;
- the memo: entries whose tag is in ``CLUSTER_FREE`` (resolution, landings, a site's reachable
  endpoint types) carry over, every other entry is computed again on the new index.

``Index.by_id`` is the builder's table: clusters patched in are not added to it (nothing reads it
after a build).

``patch_clusters`` returns None where the change would move other clusters (a cluster deleted,
or its filled-in address would take another place in its site's sequence, or its name comes to
be shared and so qualified in messages, or a subscription appears): the caller builds the index
from scratch, which stays the reference (tests/arm/test_incremental_live.py holds them equal).

A patch changes nothing an older version can reach: every table it changes is its own copy.
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


class _PatchBuilder(_Builder):
    """The index builder adding clusters to a patched version: site and scope lists are this version's own."""

    def __init__(self, patch: _Patch) -> None:
        self.t, self.ix, self._placements, self.patch = patch.ix.topology, patch.ix, {}, patch

    def join(self, holder: SiteR | ScopeR, r: ClusterR) -> None:
        self.patch.own(holder).append(r)


class _Patch:
    """The new version being made. Nothing an older version can reach is changed: the tables that
    change are copies, and the site and scope objects (shared) keep their lists; this version's
    lists are in ``Index._cluster_lists`` (``Index.clusters_in``)."""

    def __init__(self, old: Index) -> None:
        ix = Index.__new__(Index)
        ix.__dict__.update(old.__dict__)  # tables and cached derivations shared; what changes is replaced below
        clusters: Resources[ClusterR] = Resources()
        dict.update(clusters, old.clusters)
        clusters._names = dict(old.clusters._names)
        ix.clusters = clusters
        ix._memo = {k: v for k, v in old._memo.items() if isinstance(k, tuple) and k and k[0] in CLUSTER_FREE}
        ix.topology = msgspec.structs.replace(old.topology, clusters=list(old.topology.clusters))
        ix._cluster_lists = dict(old._cluster_lists)
        ix._auto_counts = dict(old._auto_counts)
        self.ix, self.old = ix, old
        self.copied: set[int] = set()  # ids of the sites and scopes whose list is already this version's own
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

    def own(self, holder: SiteR | ScopeR) -> list[ClusterR]:
        """This version's cluster list of ``holder``: a copy of the last version's, made once per patch."""
        lists = self.ix._cluster_lists
        if id(holder) not in self.copied:
            self.copied.add(id(holder))
            lists[holder] = list(self.old.clusters_in(holder))
        return lists[holder]

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
    builder = _PatchBuilder(patch)
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
            auto_index = ix._auto_counts.get(site.spec.name, 0)
            ix._auto_counts[site.spec.name] = auto_index + 1
        ix.topology.clusters.append(spec)
    else:
        position = _position(prior)
        was_auto = _auto(prior.spec, prior.site)
        if was_auto != _auto(spec, site) or (was_auto and prior.site is not site):
            return False  # the addresses filled in after it would move
        if was_auto:
            auto_index = prior.auto_place
        ix.topology.clusters[position] = spec
        for holder in (prior.site, prior.scope):
            if holder is not None:
                patch.own(holder).remove(prior)
        patch.names_of(prior.name).remove(prior)  # its key stays in the table: the new one takes its place
        patch.unkey(prior)
    # the builder appends to this version's site and scope lists (``_PatchBuilder.join``); then put it in order
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

