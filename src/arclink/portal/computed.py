"""The picture, traces and findings of the live model, computed in the background.

At 10,000 clusters the live index, a trace per cluster and the rules take seconds; no page waits
for them. One worker thread (``Computations``) computes them whenever the live model's version
changes, always for the newest version (a burst of writes costs one computation after the one
under way), and keeps the latest finished result (``Computed``). Pages answer from it at once and
say "as of version N, updating…" while a newer one runs; the portal's event stream announces
when it is ready. Results are memoised on the index (``Index.memo``), so a page asking again of
the same version never computes twice.

The worker starts with the first portal request (an emulator nobody looks at computes nothing)
and reads the live model only in its own thread: ``LiveState.snapshot()`` may build the index.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from arclink.model import rules
from arclink.model.index import Index
from arclink.model.picture import Picture, picture

log = logging.getLogger("arclink.portal")
POLL = 0.5  # seconds between looks at a live model that does not say when it changed
QUIET = 0.05  # a burst of writes: wait until they pause this long (at most BURST_CAP) before computing
BURST_CAP = 1.0


@dataclass(frozen=True)
class Computed:
    """One finished computation: the live model at ``version`` and what the pages show of it."""

    version: int
    index: Index
    picture: Picture
    findings: list
    seconds: float  # from noticing the change to ready: the index build (when the worker built it), traces, rules


def findings_of(ix: Index) -> list:
    """The rules on ``ix`` (memoised: the overview's counts and the findings page share one run)."""
    return ix.memo(("portal-findings",), lambda: rules.run(ix))


class Computations:
    """One worker computing the latest live model's picture and findings; pages read ``latest``."""

    def __init__(self, live: Any, warm: Callable[[Computed], None] = lambda c: None) -> None:
        self.live = live
        self._warm = warm  # renders what the pages show (SVG, tables) in the worker too
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
                log.exception("portal computation failed")
            finally:
                self.running, self._looking = None, False

    def compute(self, version: int, ix: Index, start: float | None = None) -> Computed:
        start = time.perf_counter() if start is None else start
        pic = picture(ix)
        findings = findings_of(ix)
        done = Computed(version, ix, pic, findings, 0.0)
        self._warm(done)
        return Computed(version, ix, pic, findings, time.perf_counter() - start)


__all__ = ["Computations", "Computed", "findings_of"]
