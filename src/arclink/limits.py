"""How much one client may take from a listener: connection caps, timeouts, header sizes, spare descriptors.

ARM, DNS over TCP and the gateway share one process and so one table of file descriptors:
every listener caps its connections in total and per source address, times out clients
that dial and say nothing, and refuses new connections once the process is within
``fd_reserve`` descriptors of its limit, so that a flood on one face leaves the others
serving. ``Limits`` holds every value with its default (docs/security.md says why each);
``arclink serve`` flags change them. ``SourceCounter`` is the bookkeeping each listener uses.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import logging
import resource
from dataclasses import dataclass
from typing import Any

__all__ = ["Limits", "SourceCounter", "raise_nofile", "release_memory"]

log = logging.getLogger("arclink.limits")

# Trimming walks the heap (about a millisecond): worth it after a flood, not after every CLI call.
TRIM_AFTER = 64


@dataclass(frozen=True)
class Limits:
    """Every listener limit. Times are seconds; ``max_connections*`` count open connections of one listener."""

    max_connections: int = 1024  # ARM and DNS over TCP, each
    max_connections_per_source: int = 256
    # Agents hold their gateway connection open and all dial from 127.0.0.1 in the emulator: a fleet
    # of thousands of clusters is one source, so the gateway's caps are its own.
    gateway_max_connections: int = 16384
    gateway_max_connections_per_source: int = 16384
    handshake_timeout: float = 10.0  # TCP accept to TLS established (ARM, gateway); gateway PROXY header too
    header_timeout: float = 10.0  # first byte to a whole request: HTTP head and body, one DNS message, a hello
    idle_timeout: float = 30.0  # between requests on a kept-alive connection (ARM, DNS over TCP)
    gateway_idle_timeout: float = 120.0  # between an admitted agent's messages (heartbeats every 5-30 s)
    max_header_bytes: int = 32768  # an HTTP request line and headers
    max_headers: int = 100
    fd_reserve: int = 64  # descriptors kept free for the other listeners, the database and the log

    def check(self) -> None:
        """ValueError naming the first value that cannot work."""
        for name, value in vars(self).items():
            if value <= 0:
                raise ValueError(f"--{name.replace('_', '-')} must be greater than 0 (got {value:g}).")


class SourceCounter:
    """Open connections of one listener, in total and per source address."""

    def __init__(self, total: int, per_source: int, fd_reserve: int) -> None:
        self.total, self.per_source, self.fd_reserve = total, per_source, fd_reserve
        self.open = self.peak = 0
        self.by_source: collections.Counter[str] = collections.Counter()
        self.refused: collections.Counter[str] = collections.Counter()

    def admit(self, source: str, fileno: int) -> str | None:
        """Count the connection and return None, or say why it is refused (and count nothing)."""
        if self.open >= self.total:
            why = "connections"
        elif self.by_source[source] >= self.per_source:
            why = "per_source"
        elif (soft := resource.getrlimit(resource.RLIMIT_NOFILE)[0]) != resource.RLIM_INFINITY and (
                fileno >= soft - self.fd_reserve and self.open >= self.fd_reserve // 4
                or fileno >= soft - self.fd_reserve // 4):
            # Linux hands out the lowest free number, so a new descriptor numbered within the reserve
            # of the soft limit means that nearly every number below it is taken: O(1), no /proc walk.
            # A listener holding many connections stops at the reserve; one holding few (the face
            # that is not flooded) may go on using it, down to the last quarter kept for the database,
            # the certificates and the log.
            why = "descriptors"
        else:
            self.open += 1
            self.peak = max(self.peak, self.open)
            self.by_source[source] += 1
            return None
        self.refused[why] += 1
        return why

    def release(self, source: str) -> None:
        self.open -= 1
        left = self.by_source[source] - 1
        if left > 0:
            self.by_source[source] = left
        else:
            del self.by_source[source]
        if self.open == 0 and self.peak >= TRIM_AFTER:  # a flood drained: hand its memory back
            self.peak = 0
            release_memory()


def raise_nofile() -> int:
    """Raise the soft descriptor limit to the hard one (a serving process wants all it may have); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:  # a hard limit of "infinity" some kernels refuse as a soft one
            log.debug("cannot raise RLIMIT_NOFILE to %s: %s", hard, exc)
    return soft


_trim: Any = None  # glibc malloc_trim, or False where there is none


def release_memory() -> None:
    """Give freed heap back to the system: glibc keeps it in its arenas otherwise, and RSS stays at a flood's peak.

    Called when a listener's last connection closes; a no-op off glibc.
    """
    global _trim
    if _trim is None:
        name = ctypes.util.find_library("c")
        try:
            _trim = ctypes.CDLL(name).malloc_trim if name else False
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)
