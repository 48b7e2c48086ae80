"""The live model keeps its versions out of the cyclic collector's passes, and still frees the old ones.

A rebuild makes half a million objects at 100k clusters; left in the collector's young
generations, each of the next passes there walks them all, a stop of the whole server in
whichever request happens to allocate (``bench/live_bench.py``: the PUT tail). So a rebuilt
version is frozen (``gc.freeze``) as soon as it is built, with the agent key table the gateway
reads; the version it replaced is freed by reference counts, a piece at a time, when the worker
settles (or before the next rebuild): no full pass of the collector, which would walk the whole
estate in one step (``arm.retired``); it is a backstop, when the frozen objects grew by a quarter.
"""

from __future__ import annotations

import base64
import gc
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from arclink.arm.live import StoreLiveState
from arclink.arm.seed import seed_topology
from arclink.arm.store import Store
from arclink.model import loader
from arclink.model.resolved import AGENT_KEYS

GOOD = Path(__file__).resolve().parents[2] / "examples" / "good.yaml"


def _seeded() -> Store:
    store = Store()
    seed_topology(store, loader.load(GOOD).topology)
    return store


def _touch_network(store: Store) -> None:
    """Write a VNet again as it is: a write only a rebuild takes in."""
    key = next(k for k in store.network_keys if "/virtualnetworks/" in k and "/subnets/" not in k)
    store.put(key, store.get_obj(key))


def _young(obj: object) -> bool:
    """Whether ``obj`` is in one of the collector's generations (not frozen)."""
    return any(o is obj for o in gc.get_objects())


@contextmanager
def _live(store: Store | None = None, debounce: float = 3600) -> Iterator[tuple[Store, StoreLiveState]]:
    """A live model over ``store`` (the example's), built once; the default debounce keeps the worker away."""
    store = store or _seeded()
    live = StoreLiveState(store, debounce=debounce)
    try:
        live.refresh()
        yield store, live
    finally:
        live.close()


def _settle(live: StoreLiveState) -> None:
    with live._build_lock:
        live._settle()


def _rebuild(store: Store, live: StoreLiveState) -> None:
    _touch_network(store)
    live.refresh()


def _count(kind: str) -> int:
    """Objects of a class of that name alive in the process, frozen or not."""
    gc.unfreeze()
    try:
        return sum(type(o).__name__ == kind for o in gc.get_objects())
    finally:
        gc.freeze()


def test_a_rebuilt_version_and_its_agent_key_table_are_frozen_at_once() -> None:
    store = _seeded()
    key = next(k for k in store.bodies if "/connectedclusters/" in k and k.count("/") == 8)
    body = store.get_obj(key)
    body["properties"]["agentPublicKeyCertificate"] = base64.b64encode(b"agent-der").decode()
    store.put(key, body)
    with _live(store) as (store, live):
        _rebuild(store, live)
        ix = live.index
        assert gc.is_tracked(ix)
        keys = ix._memo.get(AGENT_KEYS)
        assert keys is not None, "the agent key table is built with the version"
        assert not _young(ix) and not _young(keys) and not _young(ix.clusters)
        # an admission reads the table the rebuild made, and finds the cluster by its key
        cluster = ix.cluster_for_agent_key(b"agent-der")
        assert cluster is not None and cluster.id.lower() == key
        assert ix._memo[AGENT_KEYS] is keys


def test_the_version_a_rebuild_replaced_is_freed_when_the_model_settles() -> None:
    with _live() as (store, live):
        clusters = [weakref.ref(c) for c in live.index.clusters.values()]
        assert clusters
        _rebuild(store, live)
        _settle(live)
        assert all(c() is None for c in clusters), "the replaced version's clusters are freed"
        assert live.full_passes == 0, "by reference counts, with no full pass of the collector"
        assert not _young(live.index), "what lives on stays frozen"


def test_a_version_a_reader_holds_is_freed_by_the_worker_once_let_go() -> None:
    with _live(debounce=0.01) as (store, live):
        held = live.index
        clusters = [weakref.ref(c) for c in held.clusters.values()]
        _rebuild(store, live)
        _settle(live)
        assert all(c() is not None for c in clusters), "a reader's version is kept"
        assert held.clusters and all(c.site is not None or c.spec.site is None for c in held.clusters.values())
        del held
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(c() is not None for c in clusters):
            time.sleep(0.01)  # waiting for a condition: the worker looks again while one is held
        assert all(c() is None for c in clusters), "the worker freed it once the reader let go"


def test_a_replaced_versions_network_cycles_go_without_the_collector() -> None:
    with _live() as (store, live):
        _settle(live)
        gc.unfreeze()  # what earlier tests left, gone before counting
        gc.collect()
        gc.freeze()
        before = _count("VNetR")
        for _ in range(5):
            _rebuild(store, live)
            _settle(live)
        # each rebuild froze a version whose network (endpoints and scopes, VNets and subnets) forms
        # cycles; replaced, those were broken, not left frozen for a full pass
        assert live.full_passes == 0
        assert _count("VNetR") - before < len(live.index.vnets), "a replaced version's network waits for the collector"


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_frozen_garbage_of_other_kinds_gets_the_collectors_full_pass(monkeypatch) -> None:
    from arclink.arm import live as live_module

    monkeypatch.setattr(live_module, "FULL_PASS_GROWTH", 1.0)  # any growth at all
    with _live() as (store, live):
        _settle(live)  # the count of frozen objects the backstop compares with
        cycle = _Cycle()
        gone = weakref.ref(cycle)
        _rebuild(store, live)  # freezes the cycle with the new version
        del cycle
        _settle(live)
        assert live.full_passes == 1 and gone() is None
        assert not _young(live.index), "what lives on is frozen again after the pass"


def test_a_second_rebuild_before_the_worker_settles_frees_the_first_version_first() -> None:
    with _live() as (store, live):
        first = [weakref.ref(c) for c in live.index.clusters.values()]
        _rebuild(store, live)  # replaces the first version; the worker has not settled
        _rebuild(store, live)  # settles before building: the first version goes
        assert first and all(c() is None for c in first)


def test_the_worker_catches_up_once_writes_pause_without_a_reader() -> None:
    with _live(debounce=0.01) as (store, live):
        for _ in range(3):
            _touch_network(store)
            live.changed()
        done = threading.Event()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not done.is_set():
            if live._built == store.generation and not live._settle_due:
                done.set()
            else:
                done.wait(0.01)  # waiting for a condition, not for a time
        assert live._built == store.generation, "the worker brought the model up to date"
        assert not live._settle_due, "and freed the version the rebuild replaced"
