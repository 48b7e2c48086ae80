"""A reader of the live model never sees a version older than the last acknowledged write.

Not even while another thread is building the version that includes it: the reader waits for
that build, it does not read the one before (``StoreLiveState.refresh``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from arclink.arm.live import StoreLiveState
from arclink.arm.seed import seed_topology
from arclink.arm.store import Store
from arclink.model import loader

GOOD = Path(__file__).resolve().parents[2] / "examples" / "good.yaml"


class _Announcing:
    """The build lock, saying when a thread comes to take it."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock, self.coming = lock, threading.Event()

    def __enter__(self) -> None:
        self.coming.set()
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_a_reader_during_another_threads_rebuild_gets_the_version_it_builds() -> None:
    store = Store()
    seed_topology(store, loader.load(GOOD).topology)
    live = StoreLiveState(store, debounce=3600)  # the worker stays out of the way
    building, go = threading.Event(), threading.Event()
    try:
        live.refresh()
        before = live.index
        built = live._build

        def slow_build():
            building.set()
            assert go.wait(60)
            return built()

        live._build = slow_build  # type: ignore[method-assign]
        key = next(k for k in store.network_keys if "/virtualnetworks/" in k and "/subnets/" not in k)
        store.put(key, store.get_obj(key))  # acknowledged: a rebuild takes it in
        builder = threading.Thread(target=live.refresh)
        builder.start()
        assert building.wait(60), "the rebuild started"
        announcing = _Announcing(live._build_lock)
        live._build_lock = announcing  # type: ignore[assignment]
        seen: list = []
        reader = threading.Thread(target=lambda: seen.append(live.snapshot()))
        reader.start()
        # the reader either returned at once (the version before: wrong) or comes to wait for the build
        while not announcing.coming.wait(0.01) and reader.is_alive():
            pass
        go.set()
        builder.join(60)
        reader.join(60)
        assert seen, "the reader got an answer"
        version, index = seen[0]
        assert index is not before, "the reader got the version from before the write it saw acknowledged"
        assert index is live.index and version == live.version
    finally:
        go.set()
        live.close()
