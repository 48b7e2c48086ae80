"""A new ``Index`` from the last one and a few changed connected clusters, in time that follows the change.

Clusters are most of an estate (100k of them beside a few hundred VNets and zones) and most
of its writes (onboarding, extensions). Nothing else in the model depends on a cluster: VNets,
zones, sites, forwarders, endpoints, resolution and DNS views are the same objects in both
versions. What a cluster write changes, and what ``patch_clusters`` therefore makes anew:

- the cluster table: a ``model.versioned.ClusterTable``, this version's entries appended to the
  lineage of versions since the last rebuild (no copy: a write costs the same at 1k and 100k
  clusters); the name lists that changed and the agent key table likewise;
- the topology document and the cluster lists of sites and scopes: derived from the table when
  first asked (``PatchedIndex``); the site and scope objects are shared with older versions and
  never changed, so a reader holding an older version keeps seeing its lists;
- the memo: entries whose tag is in ``CLUSTER_FREE`` (resolution, landings, a site's reachable
  endpoint types) carry over, every other entry is computed again on the new index.

``Index.by_id`` is the builder's table: clusters patched in are not added to it (nothing reads it
after a build).

``patch_clusters`` returns None where the change would move other clusters (a cluster deleted,
or its filled-in address would take another place in its site's sequence, or its name comes to
be shared and so qualified in messages, or a subscription appears): the caller builds the index
from scratch, which stays the reference (tests/arm/test_incremental_live.py holds them equal).

The other way round, ``rebind_cluster`` makes one cluster of a version as a build would make it
over a later version's network (the clusters unchanged): the gateway admits from it after a
network write while the whole model is rebuilt (tests/arm/test_admission_live.py).

A patch changes nothing an older version can reach: it only appends to the lineage, under its own number.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import msgspec

from arclink.model import schema
from arclink.model.arm_references import drop_dangling_cluster
from arclink.model.errors import TopologyError
from arclink.model.index import ClusterPlacement, Index, _Builder
from arclink.model.resolved import (AGENT_KEYS, DEFAULT_SUBSCRIPTION, AgentKeys, ClusterR, Resources, ScopeR, SiteR,
                                    agent_key)
from arclink.model.versioned import ClusterTable, VersionedKeys

__all__ = ["CLUSTER_FREE", "PatchedIndex", "patch_clusters", "rebind_cluster"]

# memo tags whose values no cluster changes: kept across a clusters-only change
CLUSTER_FREE = frozenset({"resolution", "landing", "apl011"})

_PREFIX = len("$.clusters[")


def _position(r: ClusterR) -> int:
    return int(r.path[_PREFIX:-1])


def _auto(c: schema.Cluster, site: SiteR | None) -> bool:
    """Whether the index fills in this cluster's address (the next one in its site's sequence)."""
    return not c.address and site is not None and bool(site.networks)


class PatchedIndex(Index):
    """A version made by ``patch_clusters``: the cluster table is a ``ClusterTable`` over the lineage of
    versions since the last rebuild; the topology document and the site and scope cluster lists are
    derived from it when first asked (the DNS server and the gateway never ask)."""

    _topology_base: schema.Topology  # the rebuild's document: all but the clusters are this version's too

    @cached_property
    def topology(self) -> schema.Topology:  # type: ignore[override]
        return msgspec.structs.replace(self._topology_base, clusters=[c.spec for c in self.clusters.values()])

    def clusters_in(self, holder: SiteR | ScopeR) -> list[ClusterR]:
        return self.memo(MEMBERS, self._members).get(id(holder), [])

    def _members(self) -> dict[int, list[ClusterR]]:
        members: dict[int, list[ClusterR]] = {}
        for c in self.clusters.values():
            for holder in (c.site, c.scope):
                if holder is not None:
                    members.setdefault(id(holder), []).append(c)
        return members


MEMBERS = ("cluster-patch-members",)  # the memo key of a patched version's site and scope cluster lists


class _PatchBuilder(_Builder):
    """The index builder adding clusters to a patched version: it leaves the (shared) site and scope lists alone."""

    def __init__(self, ix: PatchedIndex) -> None:
        self.t, self.ix, self._placements = ix._topology_base, ix, {}

    def join(self, holder: SiteR | ScopeR, r: ClusterR) -> None:
        pass  # ``PatchedIndex.clusters_in`` derives this version's lists from its cluster table


class _Patch:
    """The new version being made. Nothing an older version can reach is changed: the cluster table
    appends this version's entries to the lineage (``model.versioned``), the rest is this version's own."""

    def __init__(self, old: Index) -> None:
        ix = PatchedIndex.__new__(PatchedIndex)
        ix.__dict__.update(old.__dict__)  # tables and cached derivations shared; what changes is replaced below
        ix.__dict__.pop("topology", None)
        ix._topology_base = old._topology_base if isinstance(old, PatchedIndex) else old.topology
        self.table = ix.clusters = ClusterTable.after(old.clusters)
        self.count = len(old.clusters)  # the next cluster's position in the topology document
        ix._memo = {k: v for k, v in old._memo.items() if isinstance(k, tuple) and k and k[0] in CLUSTER_FREE}
        ix._auto_counts = dict(old._auto_counts)
        self.ix = ix
        # the agent key table, carried over where no key is shared (then which cluster holds a key
        # needs no order); None: computed again on the new version when asked
        keys = old._memo.get(AGENT_KEYS)
        self.keys: VersionedKeys | None = None
        if isinstance(keys, (AgentKeys, VersionedKeys)) and not keys.shared:
            self.keys = VersionedKeys.after(keys, self.table.seq)

    def unkey(self, r: ClusterR) -> None:
        der = agent_key(r)
        if self.keys is not None and der is not None and self.keys.get(der) is r:
            self.keys.set(der, None)

    def key(self, r: ClusterR) -> None:
        der = agent_key(r)
        if self.keys is not None and der is not None:
            if self.keys.get(der) is not None:
                self.keys = None  # now shared: order decides, so the table is made again
            else:
                self.keys.set(der, r)


class _RebindBuilder(_Builder):
    """The index builder placing one cluster over another version's network: nothing of it is changed."""

    def __init__(self, network: Index) -> None:
        ix = Index.__new__(Index)
        ix.__dict__.update(network.__dict__)  # its tables shared, read only; the cluster goes in tables of its own
        ix.clusters, ix.by_id = Resources(), {}
        self.t, self.ix, self._placements = network.topology, ix, {}

    def join(self, holder: SiteR | ScopeR, r: ClusterR) -> None:
        pass  # the network's site and scope lists are another version's


def rebind_cluster(cluster: ClusterR, entry: dict[str, Any], network: Index) -> ClusterR | None:
    """``cluster`` (of some version, made from the topology cluster ``entry``) as a build of the same
    clusters over ``network`` would make it: its site, scope and dropped references are ``network``'s.
    ``network`` must have the sites of the cluster's version (same on-premises facts), so its filled-in
    address keeps its place; None where it would not. Raises ``TopologyError`` or
    ``msgspec.ValidationError`` where such a build would refuse it. ``network`` is not changed."""
    spec = _spec(entry, network)
    site = network.sites.get(spec.site.lower()) if spec.site else None
    was = cluster.site.spec.name if cluster.site else None
    if (site.spec.name if site else None) != was or _auto(spec, site) != (cluster.auto_place is not None):
        return None
    r = _RebindBuilder(network).add_cluster(_position(cluster), spec, ClusterPlacement(), auto_index=cluster.auto_place)
    r.qualifier = cluster.qualifier
    return r


def _spec(entry: dict[str, Any], ix: Index) -> schema.Cluster:
    near = ((entry.get("subscription") or DEFAULT_SUBSCRIPTION).lower(), (entry.get("resourceGroup") or "").lower())
    sites = {k: s.networks for k, s in ix.sites.items()}
    drop_dangling_cluster(entry, lambda ref: ix.scopes.find(ref, near) is not None, sites)
    return msgspec.convert(entry, schema.Cluster)


def patch_clusters(old: Index, changes: list[tuple[str, dict[str, Any] | None]]) -> Index | None:
    """The index with each (lower-case cluster id, topology cluster entry or None: deleted) applied,
    or None where only a rebuild gives the right index (see the module's docstring)."""
    if isinstance(old.clusters, ClusterTable) and old.clusters.lineage.spoiled:
        return None
    patch = _Patch(old)
    ix = patch.ix
    builder = _PatchBuilder(ix)
    by_id, ix.by_id = ix.by_id, {}  # the builder's duplicate check is against other clusters: done below
    done = False
    try:
        for key, entry in changes:
            if not _apply(patch, builder, key, entry):
                return None
        done = True
    except (TopologyError, msgspec.ValidationError):
        return None  # the rebuild says what is wrong (or keeps the last good model)
    finally:
        ix.by_id = by_id
        patch.table.lineage.spoiled |= not done
    if patch.keys is not None:
        ix._memo[AGENT_KEYS] = patch.keys
    return ix


def _apply(patch: _Patch, builder: _Builder, key: str, entry: dict[str, Any] | None) -> bool:
    ix, table = patch.ix, patch.table
    prior: ClusterR | None = table.by_key(key)
    if entry is None:
        return prior is None  # a deletion moves the clusters after it: rebuild
    if (entry.get("subscription") or "").lower() not in ix.subscriptions:
        return False
    spec = _spec(entry, ix)
    site = ix.sites.get(spec.site.lower()) if spec.site else None
    auto_index: int | None = None
    if prior is None:
        if table.named(spec.name):
            return False  # names shared across resource groups are qualified in messages: rebuild
        position = patch.count
        patch.count += 1
        if site is not None and _auto(spec, site):
            auto_index = ix._auto_counts.get(site.spec.name, 0)
            ix._auto_counts[site.spec.name] = auto_index + 1
    else:
        position = _position(prior)
        was_auto = _auto(prior.spec, prior.site)
        if was_auto != _auto(spec, site) or (was_auto and prior.site is not site):
            return False  # the addresses filled in after it would move
        if was_auto:
            auto_index = prior.auto_place
        patch.unkey(prior)
    # the builder sets the cluster in this version's table (its key keeps its place: topology order)
    r = builder.add_cluster(position, spec, ClusterPlacement(), auto_index=auto_index)
    patch.key(r)
    if prior is not None:
        r.qualifier = prior.qualifier
        table.set_named(prior.name, [c for c in table.named(prior.name) if c is not prior])
    same = [c for c in table.named(spec.name) if c is not prior]
    table.set_named(spec.name, sorted([*same, r], key=_position))
    return True

