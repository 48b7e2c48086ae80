"""The nonces of admitted hellos, remembered for as long as a hello with them could be accepted.

A hello is accepted within ``HELLO_WINDOW`` seconds of its time either way
(``arclink.model.wire``), so a hello first admitted at ``t`` could be presented again until
``t + 2 * HELLO_WINDOW`` at the latest. Two generations of nonces, the newer replacing the older
every ``2 * HELLO_WINDOW`` seconds, keep every nonce at least that long, and memory is bounded by
the admissions of two generations (a nonce is recorded only once its hello proved a registered
cluster's key and reach() admitted it, so a stranger's connections cost nothing here).
"""

from __future__ import annotations

import time
from typing import Callable

from arclink.model.wire import HELLO_WINDOW

MAX_REMEMBERED = 2_000_000  # per generation: about 200 MB at the outside; admissions beyond it are refused


class SeenNonces:
    """``first_use(nonce)``: True the first time a nonce is presented within its window, else False."""

    def __init__(self, window: float = HELLO_WINDOW, clock: Callable[[], float] = time.time,
                 cap: int = MAX_REMEMBERED) -> None:
        self.period, self.clock, self.cap = 2 * window, clock, cap
        self.current: set[bytes] = set()
        self.previous: set[bytes] = set()
        self.started = clock()

    def first_use(self, nonce: bytes) -> bool:
        now = self.clock()
        if now - self.started >= self.period:
            # a generation older than two periods holds nothing that could still be accepted
            self.previous = self.current if now - self.started < 2 * self.period else set()
            self.current, self.started = set(), now
        if nonce in self.current or nonce in self.previous:
            return False
        self.current.add(nonce)
        return True

    def full(self) -> bool:
        """True when no more nonces can be remembered in this generation (refuse rather than forget)."""
        return len(self.current) >= self.cap


__all__ = ["MAX_REMEMBERED", "SeenNonces"]
