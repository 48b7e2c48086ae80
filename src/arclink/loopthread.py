"""An asyncio event loop in a daemon thread of its own: start it, call into it, stop it.

The DNS server and the gateway each run their own loop beside the caller's thread (the
ARM emulator's, a test's, the command line's), so that a slow client of one never delays
the others. The lifecycle is the same for both: set up on the loop and report a failure to
the thread that started it; run; on stop, tear down on the same loop and close it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Callable, Coroutine, TypeVar

__all__ = ["LoopThread", "new_event_loop"]

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (the servers' throughput depends on it), else asyncio's."""
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


class LoopThread:
    """One event loop in one daemon thread. ``start(setup, teardown)``, ``call(coro)``, ``stop()``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._setup: Callable[[], Awaitable[None]] | None = None
        self._teardown: Callable[[], Awaitable[None]] | None = None

    def start(self, setup: Callable[[], Awaitable[None]], teardown: Callable[[], Awaitable[None]] | None = None,
              timeout: float = 30.0) -> None:
        """Run ``setup()`` on the loop and return once it is done; its exception is raised here.

        ``teardown()`` runs on the loop after ``stop()``, before the loop closes.
        """
        self._setup, self._teardown = setup, teardown
        self._thread.start()
        if not self._ready.wait(timeout):
            self.loop.call_soon_threadsafe(self.loop.stop)
            raise RuntimeError(f"{self.name} did not start in {timeout:g} s")
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            assert self._setup is not None
            loop.run_until_complete(self._setup())
        except BaseException as exc:  # reported to the thread that started us
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                if self._teardown is not None:
                    loop.run_until_complete(self._teardown())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop from another thread; its result, or its exception."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop (teardown runs on it) and wait for the thread; a no-op once it has ended."""
        if not self._thread.is_alive():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
