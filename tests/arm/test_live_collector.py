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


def test_a_rebuilt_version_and_its_agent_key_table_are_frozen_at_once() -> None:
    store = _seeded()
    key = next(k for k in store.bodies if "/connectedclusters/" in k and k.count("/") == 8)
    body = store.get_obj(key)
    body["properties"]["agentPublicKeyCertificate"] = base64.b64encode(b"agent-der").decode()
    store.put(key, body)
    live = StoreLiveState(store, debounce=3600)  # the worker never settles on its own here
    try:
        live.refresh()
        _touch_network(store)
        live.refresh()
        ix = live.index
        assert gc.is_tracked(ix)
        keys = ix._memo.get(AGENT_KEYS)
        assert keys is not None, "the agent key table is built with the version"
        assert not _young(ix) and not _young(keys) and not _young(ix.clusters)
        # an admission reads the table the rebuild made, and finds the cluster by its key
        cluster = ix.cluster_for_agent_key(b"agent-der")
        assert cluster is not None and cluster.id.lower() == key
        assert ix._memo[AGENT_KEYS] is keys
    finally:
        live.close()


def test_the_version_a_rebuild_replaced_is_freed_when_the_model_settles() -> None:
    store = _seeded()
    live = StoreLiveState(store, debounce=3600)
    try:
        live.refresh()
        old = live.index
        clusters = [weakref.ref(c) for c in old.clusters.values()]
        assert clusters
        del old
        _touch_network(store)
        live.refresh()
        with live._build_lock:
            live._settle()
        assert all(c() is None for c in clusters), "the replaced version's clusters are freed"
        assert live.full_passes == 0, "by reference counts, with no full pass of the collector"
        assert not _young(live.index), "what lives on stays frozen"
    finally:
        live.close()


def test_a_version_a_reader_holds_is_freed_by_the_worker_once_let_go() -> None:
    store = _seeded()
    live = StoreLiveState(store, debounce=0.01)
    try:
        live.refresh()
        held = live.index
        clusters = [weakref.ref(c) for c in held.clusters.values()]
        _touch_network(store)
        live.refresh()
        with live._build_lock:
            live._settle()
        assert all(c() is not None for c in clusters), "a reader's version is kept"
        assert held.clusters and all(c.site is not None or c.spec.site is None for c in held.clusters.values())
        del held
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(c() is not None for c in clusters):
            time.sleep(0.01)  # waiting for a condition: the worker looks again while one is held
        assert all(c() is None for c in clusters), "the worker freed it once the reader let go"
    finally:
        live.close()


def test_a_replaced_versions_network_cycles_go_without_the_collector() -> None:
    store = _seeded()
    live = StoreLiveState(store, debounce=3600)
    try:
        live.refresh()
        with live._build_lock:
            live._settle()  # the count of frozen objects after the first version: the backstop's base
        base = gc.get_freeze_count()
        for _ in range(5):
            _touch_network(store)
            live.refresh()
            with live._build_lock:
                live._settle()
        # each rebuild froze a version whose network (endpoints and scopes, VNets and subnets) forms
        # cycles; replaced, those were broken, not left frozen for a full pass
        assert live.full_passes == 0
        assert gc.get_freeze_count() - base < 100, "a replaced version's network stayed frozen"
    finally:
        live.close()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_frozen_garbage_of_other_kinds_gets_the_collectors_full_pass(monkeypatch) -> None:
    from arclink.arm import live as live_module

    monkeypatch.setattr(live_module, "FULL_PASS_GROWTH", 1.0)  # any growth at all
    store = _seeded()
    live = StoreLiveState(store, debounce=3600)
    try:
        live.refresh()
        with live._build_lock:
            live._settle()  # the base
        cycle = _Cycle()
        gone = weakref.ref(cycle)
        _touch_network(store)
        live.refresh()  # freezes the cycle with the new version
        del cycle
        with live._build_lock:
            live._settle()
        assert live.full_passes == 1 and gone() is None
        assert not _young(live.index), "what lives on is frozen again after the pass"
    finally:
        live.close()


def test_a_second_rebuild_before_the_worker_settles_frees_the_first_version_first() -> None:
    store = _seeded()
    live = StoreLiveState(store, debounce=3600)
    try:
        live.refresh()
        first = [weakref.ref(c) for c in live.index.clusters.values()]
        _touch_network(store)
        live.refresh()  # replaces the first version; the worker has not settled
        _touch_network(store)
        live.refresh()  # settles before building: the first version goes
        assert first and all(c() is None for c in first)
    finally:
        live.close()


def test_the_worker_catches_up_once_writes_pause_without_a_reader() -> None:
    store = _seeded()
    live = StoreLiveState(store, debounce=0.01)
    try:
        live.refresh()
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
        assert not live._settle_due, "and settled the collector after the rebuild"
    finally:
        live.close()
