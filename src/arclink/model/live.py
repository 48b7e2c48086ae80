"""The live state shared by the emulator's faces: a version number and the current index.

The ARM emulator publishes a new ``Index`` after every acknowledged write; the DNS
server and the gateway read ``snapshot()`` on each query or connection, so a change
made through ARM shows in the next answer without a restart. Readers key their
caches on ``version``.
"""

from __future__ import annotations

import threading
from typing import Callable

from arclink.model.index import Index


class LiveState:
    # Set by the emulator: record(cluster_id, status, code, reason, when) shows what the
    # gateway saw on the connectedCluster (connectivityStatus, lastConnectivityTime, reason).
    record_connectivity: Callable | None = None
    # Set by the emulator: cluster_config(cluster_id) -> the extensions' configuration an agent pulls.
    cluster_config: Callable | None = None

    def __init__(self, index: Index):
        self._lock = threading.Lock()
        self._index = index
        self._version = 0

    def snapshot(self) -> tuple[int, Index]:
        return self._version, self._index

    @property
    def version(self) -> int:
        return self._version

    @property
    def index(self) -> Index:
        return self._index

    def publish(self, index: Index) -> int:
        with self._lock:
            self._index = index
            self._version += 1
            return self._version
