"""The live model the DNS server and gateway read, rebuilt from the store when it changed.

A write only bumps the store's generation (cheap, so PUT rates stay high); the next
``snapshot()`` (a DNS query, a gateway connection, the control API) or a background
rebuild shortly after the write builds the new ``Index`` and publishes it. Readers never
see a state older than the last acknowledged write.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from arclink.arm.connectivity import extension_config, recorder
from arclink.arm.model_view import onprem_of
from arclink.arm.store import Store
from arclink.model.arm_codec import index_from_resources
from arclink.model.index import Index
from arclink.model.live import LiveState

log = logging.getLogger("arclink.arm")


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
    """The live model rebuilt lazily from the store (a ``LiveModel``, and a ``LiveState`` for the other faces)."""

    def __init__(self, store: Store, *, debounce: float = 0.25) -> None:
        self.store = store
        self._built = -1  # nothing built yet: the first reader (or the worker, at once) builds
        self._build_lock = threading.Lock()
        super().__init__(index_from_resources([], {}))
        self.record_connectivity = recorder(store)  # the gateway's status reports
        self.cluster_config = extension_config(store)  # what an agent pulls from the config data plane
        self._wake = threading.Event()
        self._stop = False
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
            gen = self.store.generation
            if self._built == gen:
                return
            index = self._build()
            self._built = gen
            self.publish(index)
        _trim()

    def changed(self) -> None:
        self._wake.set()

    def _worker(self) -> None:
        # Rebuild once writes have been quiet for a moment: a burst of writes costs one rebuild,
        # and readers (snapshot()) rebuild at once anyway if they come first.
        while not self._stop:
            self._wake.wait()
            self._wake.clear()
            while not self._stop and self._wake.wait(self._debounce):
                self._wake.clear()
            if self._stop:
                return
            try:
                self.refresh()
            except Exception:  # never let the worker die
                log.exception("live model rebuild failed")

    def snapshot(self) -> tuple[int, Index]:
        self.refresh()
        return super().snapshot()

    @property
    def index(self) -> Index:
        self.refresh()
        return self._index

    @property
    def version(self) -> int:
        self.refresh()
        return self._version

    def close(self) -> None:
        self._stop = True
        self._wake.set()


def _trim() -> None:
    """Give the memory of the previous index back to the system (glibc keeps freed arenas otherwise)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
