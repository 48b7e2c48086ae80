"""A 64-bit counter in memory shared with child processes: one writer, readers without a lock.

``arclink serve`` answers DNS from a process of its own (``arclink.dns.process``), so that the
emulator's writes never hold the interpreter lock the DNS server needs. What names resolve to
changes only with some writes; the emulator counts those as it makes them, and the DNS process
compares the count on every query: one load from shared memory, no message. An aligned 8-byte
store or load is one instruction on the 64-bit machines this runs on, so a reader sees the old
value or the new one, never a mix of both.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import tempfile

__all__ = ["SharedCounter"]


class SharedCounter:
    """``value``, ``set(n)``; ``fd`` to pass to a child, which opens it with ``SharedCounter(fd)``."""

    def __init__(self, fd: int | None = None) -> None:
        if fd is None:
            fd = _anonymous_file()
            os.ftruncate(fd, mmap.PAGESIZE)
        self.fd = fd
        self._map = mmap.mmap(fd, mmap.PAGESIZE)  # MAP_SHARED: both processes see one page
        self._cell: ctypes.c_uint64 | None = ctypes.c_uint64.from_buffer(self._map)  # page-aligned: 8-byte aligned

    @property
    def value(self) -> int:
        return self._cell.value if self._cell is not None else 0

    def set(self, value: int) -> None:
        """Store ``value``; nothing once closed (a write finishing while the server stops)."""
        cell = self._cell
        if cell is not None:
            cell.value = value

    def close(self) -> None:
        if self._cell is None:
            return
        self._cell = None  # the map cannot close while a ctypes view of it lives
        try:
            self._map.close()
        except BufferError:  # a set() on another thread still holds the view: the collector closes it
            pass
        os.close(self.fd)


def _anonymous_file() -> int:
    """A file in memory only (memfd), or an unlinked temporary file where memfd is missing."""
    create = getattr(os, "memfd_create", None)
    if create is not None:
        try:
            return create("arclink-counter", os.MFD_CLOEXEC)
        except OSError:
            pass
    fd, path = tempfile.mkstemp(prefix="arclink-counter-")
    os.unlink(path)
    return fd
