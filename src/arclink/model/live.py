"""The live state shared by the emulator's faces: a version number and the current index.

The ARM emulator publishes a new ``Index`` after every acknowledged write; the DNS
server and the gateway read ``snapshot()`` on each query or connection, so a change
made through ARM shows in the next answer without a restart. Readers key their
caches on ``version``.

Versions are snapshots: a published index is never changed, so a reader that took
``snapshot()`` sees one consistent version however long it works on it. A new version
may share most of its objects with the last one (``model.cluster_patch``: a cluster write
makes a new cluster table and shares VNets, zones, sites and resolution), and says so
with ``names_version``: the version of the last publish that changed anything a DNS answer
depends on. The DNS cache keys on it (``snapshot_names()``), so a burst of cluster writes
keeps its answers; the gateway's admissions key on ``version`` and the index they were
decided on (see ``admission``), as a cluster's admission does change with it.

What names resolve to may also run ahead of the whole model: ``publish_names`` gives DNS
readers an index built from the resources names depend on (not the clusters: hundreds of
resources, not 100k) while the whole model is rebuilt, until a version published with
``names_changed=True`` takes its place. Each such index is one consistent version of the
network too.

The gateway asks ``admission(der)``: the version, the index and the cluster an agent key belongs
to, which it hands to ``reach()``. Here that is the current version and its cluster; the emulator's
live model (``arm.live.StoreLiveState``) answers after a network write from the names-only index,
with the cluster of the last whole version placed over that network, without waiting for the
whole model's rebuild. Either way the index and the cluster are one consistent state, never
older than the last acknowledged write (the whole model's version and, from a names-only index,
that version's clusters with the newest network).
"""

from __future__ import annotations

import threading
from typing import Callable

from arclink.model.index import ClusterR, Index


class LiveState:
    # Set by the emulator: record(cluster_id, status, code, reason, when) shows what the
    # gateway saw on the connectedCluster (connectivityStatus, lastConnectivityTime, reason).
    record_connectivity: Callable | None = None
    # Set by the emulator: cluster_config(cluster_id) -> the extensions' configuration an agent pulls.
    cluster_config: Callable | None = None

    def __init__(self, index: Index):
        self._lock = threading.Lock()
        # (version, names_version, index, names index or None: index), replaced whole: a reader never
        # sees one without the others
        self._current: tuple[int, int, Index, Index | None] = (0, 0, index, None)

    def snapshot(self) -> tuple[int, Index]:
        version, _, index, _ = self._current
        return version, index

    def admission(self, der: bytes) -> tuple[int, Index, ClusterR | None]:
        """(version, index, the cluster whose agent key is ``der`` or None): what the gateway admits
        from. The cluster is the index's own, so ``reach(index, cluster, ...)`` decides in one version;
        the gateway's decisions may be cached on (version, index)."""
        version, index = self.snapshot()
        return version, index, index.cluster_for_agent_key(der)

    def snapshot_names(self) -> tuple[int, Index]:
        """(names_version, index): the index names resolve from, and the version of its last change
        to what names resolve to."""
        _, names, index, names_index = self._current
        return names, index if names_index is None else names_index

    @property
    def version(self) -> int:
        return self._current[0]

    @property
    def names_version(self) -> int:
        return self._current[1]

    @property
    def index(self) -> Index:
        return self._current[2]

    # read by subclasses that publish
    @property
    def _index(self) -> Index:
        return self._current[2]

    @property
    def _version(self) -> int:
        return self._current[0]

    def publish(self, index: Index, *, names_changed: bool = True) -> int:
        """Make ``index`` the current version. ``names_changed=False``: every name resolves as in the
        last version (only clusters changed, ``model.cluster_patch``; or a ``publish_names`` index is
        newer than ``index`` and stays)."""
        with self._lock:
            version, names, _, names_index = self._current
            version += 1
            if names_changed:
                self._current = (version, version, index, None)
            else:
                self._current = (version, names, index, names_index)
            return version

    def publish_names(self, names_index: Index) -> int:
        """Make ``names_index`` what names resolve from, ahead of the whole model (see the module's docstring)."""
        with self._lock:
            version, _, index, _ = self._current
            version += 1
            self._current = (version, version, index, names_index)
            return version
