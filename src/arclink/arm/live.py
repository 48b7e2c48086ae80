"""The live model the DNS server and gateway read, brought up to date with the store when it changed.

A write only bumps the store's generation and notes its key (cheap, so PUT rates stay
high); the next ``snapshot()`` (a DNS query, a gateway connection, the control API) or a
background pass shortly after the write publishes the new ``Index``. Readers never see a
state older than the last acknowledged write.

How the new index is made depends on what the writes since the last one touched
(``Store.take_touched``):

- connected clusters and their extensions only (the onboarding burst, extension installs):
  ``model.cluster_patch`` makes the new version from the last one in time that follows the
  change (no VNet, zone, site or resolution is rebuilt), published with
  ``names_changed=False`` so the DNS server keeps its answers;
- resources the model never reads (monitoring, NICs) in known subscriptions: nothing to publish;
- anything else (networking, DNS zones, scopes, resource groups, on-premises facts, a cluster
  deleted, a failed write taken back): a rebuild from scratch (``index_from_resources``, ~0.6 s
  at 10k clusters), which stays the reference the patches are tested against
  (tests/arm/test_incremental_live.py).

What names resolve to does not wait for that rebuild: after a write names depend on (a record,
a zone group, an endpoint's approval), the next DNS query builds an index from those resources
only (``Store.names_objects``: hundreds, not 100k clusters) and publishes it for names alone
(``LiveState.publish_names``) until the rebuild, done by the worker meanwhile, catches up.

Nor do the gateway's admissions (``admission``): while the only writes the last whole version
lacks are ones that names-only index takes in (networking, zones, scopes, resource groups: the
store tells each write as it happens, ``Store.affects_names``), the cluster an agent key belongs
to is the last whole version's, placed over the names-only index's network
(``model.cluster_patch.rebind_cluster``), and ``reach()`` decides on that index. A write that
index does not take in (a cluster, an extension, a site, a deletion of a cluster) sends
admissions back to the whole model, which then includes it before they are answered.
"""

from __future__ import annotations

import gc
import logging
import threading
from typing import Any, Protocol

import msgspec

from arclink.arm.connectivity import extension_config, recorder
from arclink.arm.model_view import onprem_of
from arclink.arm.retired import RetiredVersions
from arclink.arm.store import Store
from arclink.arm.store_keys import is_network_key, is_scope_key
from arclink.model.arm_codec import T_EXTENSION, cluster_entry, index_from_resources
from arclink.model.cluster_patch import patch_clusters, rebind_cluster
from arclink.model.errors import TopologyError
from arclink.model.index import ClusterR, Index
from arclink.model.live import LiveState
from arclink.model.loader import collector_paused

log = logging.getLogger("arclink.arm")

# namespaces of the resources the network model reads (clusters apart): a write there rebuilds
_MODEL_NAMESPACES = {"microsoft.network", "microsoft.hybridcompute", "microsoft.resources"}
_CLUSTERS = ["microsoft.kubernetes", "connectedclusters"]
_BEHIND = object()  # ``_rebound``: the names-only index cannot stand in for the whole model
# The collector's full pass, a backstop: it runs when the objects frozen out of its passes have grown
# by this much since the last one. Replaced versions are freed without it (``arm.retired``, their
# network's cycles included), so what it finds is garbage of other kinds a rebuild froze, or an
# estate that grew; it walks the whole estate in one step.
FULL_PASS_GROWTH = 1.25


class LiveModel(Protocol):
    """What the front door needs of the live model: a nudge after writes, the current index and version."""

    def changed(self) -> None: ...

    @property
    def index(self) -> Index: ...

    @property
    def version(self) -> int: ...


class PublishOnChange:
    """A plain ``model.live.LiveState`` as a ``LiveModel``: every change publishes a rebuilt index at once."""

    def __init__(self, store: Store, live: LiveState) -> None:
        self.store, self.live = store, live

    def changed(self) -> None:
        try:
            self.live.publish(index_from_resources(self.store.model_objects(), onprem_of(self.store)))
        except Exception:  # keep the last good model
            log.exception("live model not rebuilt")

    @property
    def index(self) -> Index:
        return self.live.index

    @property
    def version(self) -> int:
        return self.live.version


class StoreLiveState(LiveState):
    """The live model kept up to date from the store (a ``LiveModel``, and a ``LiveState`` for the other faces)."""

    def __init__(self, store: Store, *, debounce: float = 0.25) -> None:
        self.store = store
        self._built = -1  # nothing built yet: the first reader (or the worker, at once) builds
        self._names_built = -1  # the store's names generation the current version includes
        self._names_ahead = -1  # the store's names generation the ``publish_names`` index includes
        self._names_lock = threading.Lock()  # what names resolve from is decided under it
        self._ahead_lock = threading.Lock()  # one names-only build at a time
        self._settle_due = False  # a rebuild replaced a version: it is due to be freed (``_settle``)
        self._retired = RetiredVersions()  # versions replaced, until nothing holds them (``_settle``)
        self._frozen_base: int | None = None  # objects frozen just after the collector's last full pass
        # a rebuild froze the names-only index now published: replaced, it goes to ``_retired`` (its
        # cycles are out of the collector's passes); a young one the collector frees as it comes
        self._names_frozen = False
        self.full_passes = 0  # the collector's full passes so far (tests read it)
        # writes a names-only index does not take in, counted as they happen (``_affects_names``), and how
        # many of them, and which store generation, the current whole version includes
        self._uncovered = 0
        self._whole_uncovered = self._whole_gen = -1
        # (whole version, names-only index, agent key -> cluster placed over the latter): ``_rebound``
        self._rebinds: tuple[Index | None, Index | None, dict[bytes, ClusterR | None]] = (None, None, {})
        self.rebuilds = 0  # rebuilds from scratch begun so far (tests and bench/live_bench.py read it)
        store.affects_names = self._affects_names
        self._build_lock = threading.Lock()
        super().__init__(index_from_resources([], {}))
        self.record_connectivity = recorder(store)  # the gateway's status reports
        self.cluster_config = extension_config(store)  # what an agent pulls from the config data plane
        self._wake = threading.Event()
        self._stop = False
        self._stopping = threading.Event()  # what the worker sleeps on between looks (``close`` sets it)
        self._debounce = debounce
        self._thread = threading.Thread(target=self._worker, name="arclink-live", daemon=True)
        self._thread.start()
        self._wake.set()

    def _build(self) -> Index:
        try:
            return index_from_resources(self.store.model_objects(), onprem_of(self.store))
        except Exception as exc:  # keep serving the last good model (writes are checked, so this is a bug)
            log.warning("live model not rebuilt: %s", exc)
            return self._index

    def refresh(self) -> None:
        if self._built == self.store.generation:
            return
        with self._build_lock:
            if self._built == self.store.generation:
                return
            # the keys first, then the resources: a write in between is in both, and applying it twice is harmless
            with self.store.lock:  # and the count of writes admissions need the whole model for, as of those keys
                gen, names_gen, touched = self.store.take_touched()
                taken = (gen, names_gen, self._uncovered)
            changes = self._cluster_changes(touched) if self._built >= 0 else None
            # ``_built`` moves once the version is published: a reader that finds it behind waits here
            # for the version that includes what it saw acknowledged, never reads the one before
            if changes is not None and not changes:  # nothing the model reads
                self._publish(None, taken)
                self._built = gen
                return
            index = patch_clusters(self._index, changes) if changes else None
            if index is not None:
                self._publish(index, taken, names_changed=False)
                self._built = gen
                return
            self.rebuilds += 1
            try:
                if self._settle_due:  # writes never paused since the last rebuild: its old version goes first
                    self._settle()
                gc.collect(1)  # the young generations' garbage now, while they are small: the rest is frozen below
                with collector_paused():  # a build allocates a whole index and no garbage: no passes over it
                    index = self._build()
                    # the agent key table the gateway asks every version for is part of the version: built
                    # here, not by the first admission, so that it is frozen with the rest
                    index.cluster_for_agent_key(b"")
                    # Out of the collector's passes (until a full one, ``_settle``): left in the young
                    # generations, the new index (half a million objects at 100k clusters) would be walked
                    # by the next passes there, each a stop of a fifth of a second in whichever request
                    # allocates at that moment; and each full pass would walk it again.
                    gc.freeze()
                    self._names_frozen = True
                self._publish(index, taken)
            finally:  # a build that failed half-way counts as done: the last version stays (``admission``)
                self._built = gen
        # the worker frees the last version once writes are quiet, off the path of the reader waiting for this one
        self._settle_due = True
        self._wake.set()

    def _settle(self) -> None:
        """Free the versions replaced so far that nothing holds any more, a piece at a time
        (``arm.retired``), and give the memory back to the system. The worker does it once writes are
        quiet, and the next rebuild first. Nothing in a version refers back from the network to its
        clusters (``Index.clusters_in``), so the bulk of it goes by reference counts, with no pass of
        the cyclic collector: a full pass walks the whole estate in one step (1 s at 100k clusters),
        which holds up the gateway's admissions; the cycles a version's network has (a few hundred
        objects) are broken by ``RetiredVersions`` too. A full pass (unfreeze everything, collect,
        freeze what lives on) is the backstop, when the frozen objects grew by ``FULL_PASS_GROWTH``.
        Called holding the build lock (a pass over a half-built index is what the build avoids)."""
        self._settle_due = False
        freed = self._retired.freed
        self._retired.sweep()
        frozen = gc.get_freeze_count()
        if self._frozen_base is None:
            self._frozen_base = frozen
        elif frozen > self._frozen_base * FULL_PASS_GROWTH:
            self.full_passes += 1
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._frozen_base = gc.get_freeze_count()
        if self._retired.freed > freed:
            _trim()

    def _publish(self, index: Index | None, taken: tuple[int, int, int], *, names_changed: bool = True) -> None:
        """Publish ``index`` (None: nothing to publish) as including the store's generation, names
        generation and count of writes a names-only index does not take in ``taken``; a names-only
        index that includes more stays what names resolve from."""
        gen, names_gen, uncovered = taken
        with self._names_lock:
            self._names_built = names_gen
            self._whole_gen, self._whole_uncovered = gen, uncovered
            if index is not None:
                replaced, names_index = self._index, self._current[3]
                self.publish(index, names_changed=names_changed and self._names_ahead <= names_gen)
                if names_index is not None and self._current[3] is None and self._names_frozen:
                    self._retired.retire(names_index, _network(names_index))
                del names_index
                self._rebinds = (None, None, {})  # admissions' clusters placed over the names of a version replaced
                if names_changed:
                    # a rebuild shares nothing with the version it replaced: that one is freed by the worker,
                    # not by whichever reader lets go of it last. A patched version shares the bulk of the
                    # one before (``model.versioned``): what it replaced of its own is small, and goes now.
                    self._retired.retire(replaced, _network(replaced))
                del replaced

    def _names_index(self) -> None:
        """Build and publish what names resolve from, from the resources names depend on only: the
        DNS server answers a zone, record, zone group or endpoint write without waiting for the whole
        model (seconds at 100k clusters), which the worker rebuilds meanwhile."""
        with self._ahead_lock:
            gen = self.store.names_generation  # before the resources: the index includes at least this
            if gen <= max(self._names_built, self._names_ahead):
                return
            try:
                index = index_from_resources(self.store.names_objects(), onprem_of(self.store))
            except Exception as exc:  # the whole model's rebuild says what is wrong (or keeps the last good one)
                log.warning("names not rebuilt ahead of the model: %s", exc)
                self.refresh()
                return
            with self._names_lock:
                if gen > max(self._names_built, self._names_ahead):
                    self._names_ahead = gen
                    replaced, frozen, self._names_frozen = self._current[3], self._names_frozen, False
                    self.publish_names(index)
                    if replaced is not None and frozen:
                        self._retired.retire(replaced, _network(replaced))
                    del replaced
        self._wake.set()

    def _cluster_changes(self, touched: dict[str, bool] | None) -> list[tuple[str, dict | None]] | None:
        """The touched clusters as (id, topology entry): those already in the model, then the new ones
        in the store's order. None where something else the model reads was touched."""
        if touched is None:
            return None
        store, ix = self.store, self._index
        clusters: set[str] = set()
        for key, deleted in touched.items():
            cluster = _cluster_of(key, deleted, ix)
            if cluster is None:
                return None
            if cluster and (cluster == key or store.get(cluster) is not None):
                clusters.add(cluster)
        known = [k for k in clusters if ix.clusters.by_key(k) is not None]
        new = sorted((k for k in clusters if ix.clusters.by_key(k) is None), key=store.seq)
        out: list[tuple[str, dict | None]] = []
        for key in known + new:
            obj = store.get_obj(key)
            if obj is None:
                return None
            extensions = [e for e in map(store.get_obj, store.list_keys(f"{key}/providers/{T_EXTENSION}")) if e]
            out.append((key, cluster_entry(obj, extensions)))
        return out

    def changed(self) -> None:
        self._wake.set()

    def _worker(self) -> None:
        # Bring the model up to date once writes have been quiet for a moment: a burst of writes costs
        # one pass, and readers (snapshot()) do it at once anyway if they come first. Quiet is judged by
        # the store's generation, looked at once a debounce: the worker sleeps through a burst rather
        # than waking on every write, as each wake takes the interpreter lock from the threads answering
        # DNS and taking the writes (during an onboarding burst, a wake per PUT).
        while not self._stop:
            # replaced versions a reader still held at the last sweep: looked at again in a second
            if not self._wake.wait(1.0 if len(self._retired) else None):
                with self._build_lock:
                    self._settle()
                continue
            seen = self.store.generation
            while not self._stopping.wait(self._debounce) and self.store.generation != seen:
                seen = self.store.generation
            if self._stop:
                return
            self._wake.clear()  # before looking: a write from now on wakes the worker again
            try:
                self.refresh()
                with self._build_lock:
                    if self._settle_due:
                        self._settle()
            except Exception:  # never let the worker die
                log.exception("live model rebuild failed")

    def snapshot(self) -> tuple[int, Index]:
        self.refresh()
        return super().snapshot()

    def admission(self, der: bytes) -> tuple[int, Index, ClusterR | None]:
        # what has been acknowledged so far: the state answered from includes at least this
        gen, uncovered, names_gen = self.store.generation, self._uncovered, self.store.names_generation
        if names_gen > max(self._names_built, self._names_ahead):
            self._names_index()
        with self._names_lock:
            version, _, whole, names = self._current
            ahead = names is not None and self._whole_uncovered >= uncovered and self._names_ahead >= names_gen
        if ahead:
            assert names is not None
            cluster = self._rebound(whole, names, der)
            # a cluster written meanwhile may have been read half-way: the whole model decides then
            if cluster is not _BEHIND and self._uncovered == uncovered:
                w, n, table = self._rebinds
                if cluster is not None and w is whole and n is names and len(table) < 200_000:
                    table[der] = cluster
                return version, names, cluster
        self.refresh()
        while self._whole_gen < gen:  # another reader, or the worker, is building the version that includes it
            with self._build_lock:
                stuck = self._whole_gen < gen <= self._built  # that build ended half-way: the last version stays
            if stuck:
                break
            self.refresh()
        version, index = super().snapshot()
        return version, index, index.cluster_for_agent_key(der)

    def _rebound(self, whole: Index, names: Index, der: bytes) -> Any:  # ClusterR | None | _BEHIND
        """The cluster of ``whole`` whose agent key is ``der`` placed over the network of ``names`` (None:
        no cluster has it), or ``_BEHIND``. ``whole`` lacks no cluster write (``admission`` checked), so
        its clusters and their order are the store's; only what the network decides of each (its scope,
        references dropped as dangling) is taken again from ``names``."""
        w, n, table = self._rebinds
        if w is not whole or n is not names:
            table = {}
            self._rebinds = (whole, names, table)
        if der in table:
            return table[der]
        cluster = whole.cluster_for_agent_key(der)
        if cluster is None:
            return None
        key = cluster.id.lower()
        obj = self.store.get_obj(key)
        if obj is None:
            return _BEHIND
        extensions = [e for e in map(self.store.get_obj, self.store.list_keys(f"{key}/providers/{T_EXTENSION}")) if e]
        try:
            rebound = rebind_cluster(cluster, cluster_entry(obj, extensions), names)
        except (TopologyError, msgspec.ValidationError):
            return _BEHIND  # the whole model's build says what is wrong (or keeps the last good one)
        return _BEHIND if rebound is None else rebound

    def snapshot_names(self) -> tuple[int, Index]:
        # what names resolve to does not wait for clusters written meanwhile: a DNS query during an
        # onboarding burst answers from the last version (its names are the newest) without patching,
        # and knows so from one integer (the store counts the writes ``_affects_names`` at write time);
        # nor for the whole model's rebuild after a write names do depend on (``_names_index``)
        if self.store.names_generation > max(self._names_built, self._names_ahead):
            self._names_index()
        return super().snapshot_names()

    def _affects_names(self, key: str | None, deleted: bool) -> bool:
        """Whether a write may change what names resolve to (the store bumps its names generation); and
        count it, as it happens (under the store's lock), if a names-only index does not take it in:
        anything but networking, zones, scopes and resource groups, and resources the model never reads."""
        cluster = None if key is None else _cluster_of(key, deleted, self._index)
        if key is None or (cluster != "" and not (is_network_key(key) or is_scope_key(key))):
            self._uncovered += 1
        return cluster is None

    @property
    def index(self) -> Index:
        self.refresh()
        return self._index

    @property
    def version(self) -> int:
        self.refresh()
        return self._version

    @property
    def names_version(self) -> int:
        return self.snapshot_names()[0]

    def close(self) -> None:
        self._stop = True
        self._stopping.set()
        self._wake.set()


def _cluster_of(key: str, deleted: bool, ix: Index) -> str | None:
    """What a written key means to the model: the cluster it changes (its own id, or its extension's
    cluster), "" for nothing, None for a change only a rebuild takes in."""
    parts = key.split("/")
    if len(parts) < 9 or parts[3] != "resourcegroups" or parts[5] != "providers":
        return None  # a subscription's or a resource group's own resource
    if parts[2] not in ix.subscriptions:
        return None  # a subscription appears in the model
    if parts[6:8] == _CLUSTERS:
        if len(parts) == 9:
            return None if deleted else key
        if len(parts) == 13 and "/".join(parts[9:12]) == "providers/" + T_EXTENSION:
            return "/".join(parts[:9])
    return None if parts[6] in _MODEL_NAMESPACES or deleted else ""


def _network(ix: Index) -> list[Any]:
    """A version's objects that refer to one another in cycles (an endpoint and its scope, a VNet and
    its subnets, a zone and the VNets linked to it), for ``RetiredVersions`` to free without a full pass."""
    return [*ix.vnets.values(), *ix.nsgs.values(), *ix.scopes.values(), *ix.endpoints.values(),
            *ix.zones.values(), *ix.forwarders.values(), *ix.sites.values()]


def _trim() -> None:
    """Give the memory of the previous index back to the system (glibc keeps freed arenas otherwise)."""
    global _LIBC
    try:
        if _LIBC is None:
            import ctypes

            _LIBC = ctypes.CDLL("libc.so.6")
        _LIBC.malloc_trim(0)
    except (OSError, AttributeError):
        pass


_LIBC: Any = None  # loaded once: each load makes objects in cycles, for the collector's full pass
