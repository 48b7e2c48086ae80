"""The picture, traces and findings of the live model, computed in the background.

At 10,000 clusters a trace per cluster and the rules take seconds; no page waits for them. One
worker thread (``Computations``) has them computed as soon as the live model's version changes
(ARM's nudge after each acknowledged write wakes it; a burst of writes costs one computation after
the one under way), always for the newest version, and keeps the latest finished result
(``Computed``). Pages answer from it at once. A page never shows an older version without saying
so: while a newer one is computed it says "As of version N, updating…", and the portal's event
stream sends ``ready`` when the new one is done, on which the open page fetches itself again.

The computation runs in a child process (``isolate=True``, the portal's choice, measured with
``bench/portal_bench.py --in-thread``): in a thread, its seconds of pure Python take the interpreter
lock from the server's event loop, and at 10,000 clusters pages fetched during a computation took
up to 2 s instead of 0.6 s. The child gets the model as its topology (msgpack, milliseconds),
rebuilds the same index (``build_index``), computes, drops the index and gives its memory back,
and sends the picture, the findings and their rendered HTML (a few MB) back. The picture keeps
no trace (each is placed in its path and dropped), so the child peaks near 100 MB at 10,000
clusters and waits between versions holding little more than its imports. Should the child be
unavailable, the worker thread computes itself.

The worker starts with the first portal request (an emulator nobody looks at computes nothing)
and reads the live model only in its own thread: ``LiveState.snapshot()`` may build the index.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable

import msgspec

from arclink.model import rules, schema
from arclink.model.index import Index, build_index
from arclink.model.picture import Picture, picture

Render = Callable[[Index, Picture, list], dict]  # what the pages show of a computation, as HTML by part

log = logging.getLogger("arclink.portal")
POLL = 0.5  # seconds between looks at a live model that does not say when it changed
QUIET = 0.05  # a burst of writes: wait until they pause this long (at most BURST_CAP) before computing
BURST_CAP = 1.0


@dataclass(frozen=True)
class Computed:
    """One finished computation: the live model at ``version`` and what the pages show of it."""

    version: int
    index: Index  # the live model's own index at ``version`` (a cluster's page traces that cluster on it)
    picture: Picture
    findings: list
    seconds: float  # from noticing the change to ready: the index build (when the worker built it), traces, rules
    parts: dict = field(default_factory=dict)  # the rendered HTML ``Render`` made


def findings_of(ix: Index) -> list:
    """The rules on ``ix`` (memoised: the overview's counts and the findings page share one run)."""
    return ix.memo(("portal-findings",), lambda: rules.run(ix))


def _compute(ix: Index, render: Render) -> tuple[Picture, list, dict]:
    pic = picture(ix)
    findings = findings_of(ix)
    return pic, findings, render(ix, pic, findings)


def _compute_in_child(topology: bytes, render: Render) -> tuple[Picture, list, dict]:
    """In the child process: the index again from its topology, then the same computation.

    The index is dropped and its memory given back before the (much smaller) result is sent: the
    child waits for the next version holding its imports, not the last fleet."""
    ix = build_index(msgspec.msgpack.decode(topology, type=schema.Topology))
    out = _compute(ix, render)
    del ix
    _give_back_memory()
    return out


def _give_back_memory() -> None:
    gc.collect()
    try:  # glibc keeps freed arenas unless asked
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Computations:
    """One worker computing the latest live model's picture and findings; pages read ``latest``."""

    def __init__(self, live: Any, render: Render = lambda ix, pic, findings: {}, *, isolate: bool = False) -> None:
        self.live = live
        self._render = render  # what the pages show (SVG, tables), rendered with the computation
        self._isolate = isolate
        self._pool: ProcessPoolExecutor | None = None
        self.latest: Computed | None = None
        self.running: int | None = None  # the version being computed
        self._dirty = False  # the live model said it changed; the worker has not looked yet
        self._looking = False  # the worker is taking a snapshot (which may build the index)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = False

    # -- what pages and the event stream read ---------------------------------------------------
    @property
    def updating(self) -> bool:
        return self._dirty or self._looking or self.running is not None or self.latest is None

    def clock(self) -> tuple[int, bool]:
        """Changes when a computation starts or finishes: the event stream's first clock."""
        return (self.latest.version if self.latest else -1), self.updating

    async def settle(self, wait: float = 0.3) -> Computed | None:
        """The latest computation, after waiting up to ``wait`` seconds for one under way.

        A small model is computed in milliseconds: its pages show the change just made. A large
        one (whose last computation took longer than the wait) answers at once from the previous
        computation and says it is updating.
        """
        self.start()
        if self.latest is not None and self.latest.seconds > wait:
            return self.latest
        deadline = time.monotonic() + wait
        while self.updating and time.monotonic() < deadline and not self._stop:
            await asyncio.sleep(0.01)
        return self.latest

    # -- the worker ---------------------------------------------------------------------------------
    def changed(self) -> None:
        """The live model changed (an acknowledged ARM write): compute again soon."""
        self._dirty = True
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None or self._stop:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="arclink-portal", daemon=True)
                self._thread.start()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        first = True
        while not self._stop:
            if not first:
                self._wake.wait(POLL)
                burst_end = time.monotonic() + BURST_CAP
                while self._wake.is_set() and not self._stop and time.monotonic() < burst_end:
                    self._wake.clear()
                    self._wake.wait(QUIET)
            first = False
            self._wake.clear()
            if self._stop:
                return
            # Told of a change: building the index in snapshot() is part of updating. A change after
            # this point sets _dirty again and is seen next round.
            self._looking, self._dirty = self._dirty, False
            try:
                start = time.perf_counter()
                version, ix = self.live.snapshot()  # builds the index when the model changed
                if self.latest is None or version != self.latest.version:
                    self.running = version  # before _looking drops: no moment says "not updating"
                    self._looking = False
                    self.latest = self.compute(version, ix, start)
            except Exception:  # never let the worker die; the pages keep the last good result
                if not self._stop:
                    log.exception("portal computation failed")
            finally:
                self.running, self._looking = None, False

    def compute(self, version: int, ix: Index, start: float | None = None) -> Computed:
        start = time.perf_counter() if start is None else start
        pic, findings, parts = self._isolated(ix) if self._isolate else _compute(ix, self._render)
        return Computed(version, ix, pic, findings, time.perf_counter() - start, parts)

    def _isolated(self, ix: Index) -> tuple[Picture, list, dict]:
        try:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            topology = msgspec.msgpack.encode(ix.topology)
            return self._pool.submit(_compute_in_child, topology, self._render).result()
        except (BrokenProcessPool, OSError, RuntimeError) as exc:  # no child (or closing): compute here
            if self._stop:
                raise
            log.warning("portal computation in this process (no child process: %s)", exc)
            self._pool, self._isolate = None, False
            return _compute(ix, self._render)


__all__ = ["Computations", "Computed", "findings_of"]
