"""The DNS server's query cache: answers for the live state's current version, bounded.

Two caches, both dropped whenever what names resolve to changes (``LiveState.names_version``: a
write to clusters only keeps them) and both bounded:
- resolutions by (view key, name, type), shared by every client of a view;
- whole UDP responses by (client address, query bytes after the ID): a hit only patches
  the ID, which is what makes the server fast enough to compare with dnsmasq.
"""

from __future__ import annotations

from typing import Any

from arclink.dns.views import source_view
from arclink.dns.wire import answer
from arclink.model.index import Index
from arclink.model.live import LiveState
from arclink.model.resolve import View
from arclink.net import is_loopback_address

__all__ = ["QueryCache", "RESOLUTION_CACHE_ENTRIES", "WIRE_CACHE_ENTRIES"]

WIRE_CACHE_ENTRIES = 50_000
RESOLUTION_CACHE_ENTRIES = 20_000


class QueryCache:
    """Answers for one live state: the version the caches belong to, and the caches."""

    def __init__(self, live: LiveState) -> None:
        self.live = live
        self.version = -1
        self.index: Index | None = None
        self.wire: dict[tuple[str, bytes], bytes] = {}
        self.resolutions: dict[Any, Any] = {}
        self.peer_views: dict[str, View] = {}

    def refresh(self) -> Index:
        """The current index; the caches are dropped when what names resolve to changed."""
        version, index = self.live.snapshot_names()
        if version != self.version:
            self.wire.clear()
            self.resolutions.clear()
            self.peer_views.clear()
        self.version, self.index = version, index
        if len(self.resolutions) > RESOLUTION_CACHE_ENTRIES:
            self.resolutions.clear()
        return index

    def respond(self, data: bytes, host: str, transport: str) -> bytes | None:
        """The response to query ``data`` from ``host`` (None: not a query to answer)."""
        index = self.refresh()
        if is_loopback_address(host):
            return answer(index, None, data, source=host, transport=transport, cache=self.resolutions)
        view = self.peer_views.get(host)
        if view is None:
            if len(self.peer_views) > WIRE_CACHE_ENTRIES:
                self.peer_views.clear()
            view = self.peer_views[host] = source_view(index, host)
        return answer(index, view, data, source=host, transport=transport, cache=self.resolutions)

    def remember(self, host: str, data: bytes, response: bytes) -> None:
        """Keep a UDP response for the next identical question (oldest dropped first: memory stays bounded)."""
        if len(self.wire) >= WIRE_CACHE_ENTRIES:
            del self.wire[next(iter(self.wire))]
        self.wire[(host, data[2:])] = response[2:]
