"""Cluster tables shared by the live versions patched from one rebuild, each version reading its own.

A cluster write makes a new version of the live model (``model.cluster_patch``). Copying the
cluster table (100k entries) for each would make a write's cost grow with the estate, and
changing it in place would change what a reader holding an older version sees. So the versions
patched from one rebuild share one ``Lineage``: the rebuild's tables (never changed) and, after
them, what each patch changed, appended under the version's sequence number. A version reads the
newest entry at or below its own number, so it sees exactly what it was made with, and an older
version never sees a newer one's entries.

Only the patch that makes the newest version appends (the live model's build lock); readers of
any version may read at the same time: entries are only ever appended (lists, dict keys), never
changed or removed, which CPython keeps safe to read while another thread appends.

A patch that gives up half-way (the caller then rebuilds) has appended entries under a number
no version holds; ``Lineage.spoiled`` then stops every later patch from this lineage.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from arclink.model.resolved import AgentKeys, ClusterR, Resources

__all__ = ["ClusterTable", "Lineage", "VersionedKeys"]

History = list[tuple[int, Any]]
SLACK = 10_000  # entries a lineage takes beyond twice its base before a version starts a new one


def _at(history: History, seq: int, default: Any) -> Any:
    """The newest value of ``history`` at or below ``seq`` (``default`` where none is)."""
    for i in range(len(history) - 1, -1, -1):
        s, value = history[i]
        if s <= seq:
            return value
    return default


class Lineage:
    """What the versions patched from one rebuild share: its tables, and every patch's changes after them."""

    def __init__(self, base: Resources[ClusterR]) -> None:
        self.base = base  # the rebuild's cluster table: never changed
        self.added: list[str] = []  # keys of clusters new since the rebuild, in topology order
        self.changed: dict[str, History] = {}  # key -> (seq, cluster) for each version that set it
        self.names: dict[str, History] = {}  # lower name -> (seq, that version's list of clusters so named)
        self.seq = 0  # the last number given to a version
        self.entries = 0  # entries appended since the rebuild (``ClusterTable.after`` starts over past a bound)
        self.spoiled = False  # a patch gave up after appending: only a rebuild goes on from here

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


class ClusterTable(Resources[ClusterR]):
    """One version's cluster table over a ``Lineage``: reads as ``Resources`` (keyed by lower-case ARM
    id, in topology order); ``add`` sets a cluster in this version (the patch that makes it only)."""

    def __init__(self, lineage: Lineage, seq: int, count: int) -> None:
        super().__init__()
        self.lineage, self.seq, self._count = lineage, seq, count  # count: entries of ``lineage.added`` seen

    @classmethod
    def after(cls, old: Resources[ClusterR]) -> ClusterTable:
        """The table of the version after ``old``'s (a fresh lineage where ``old`` is a rebuild's)."""
        if isinstance(old, ClusterTable) and old.lineage.entries <= 2 * len(old.lineage.base) + SLACK:
            return cls(old.lineage, old.lineage.next_seq(), old._count)
        if isinstance(old, ClusterTable):
            # long since the rebuild: this version's table becomes a new lineage's base (once per as many
            # writes as the estate has clusters), so old versions' entries do not pile up
            old = old.materialized()
        lineage = Lineage(old)
        return cls(lineage, lineage.next_seq(), 0)

    # reads --------------------------------------------------------------------------------
    def by_key(self, key: str) -> ClusterR | None:
        changes = self.lineage.changed.get(key)
        base = dict.get(self.lineage.base, key)
        return base if changes is None else _at(changes, self.seq, base)

    def named(self, name: str) -> list[ClusterR]:
        key = name.lower()
        changes = self.lineage.names.get(key)
        base = self.lineage.base._names.get(key, [])
        return base if changes is None else _at(changes, self.seq, base)

    def shared_names(self) -> list[list[ClusterR]]:
        names = dict.fromkeys(self.lineage.base._names)
        names.update(dict.fromkeys(self.lineage.names))
        return [rs for rs in map(self.named, names) if len(rs) > 1]

    def keys(self) -> Iterator[str]:  # type: ignore[override]
        yield from dict.keys(self.lineage.base)
        yield from self.lineage.added[:self._count]

    def values(self) -> Iterator[ClusterR]:  # type: ignore[override]
        changed, seq = self.lineage.changed, self.seq
        for key, r in dict.items(self.lineage.base):
            changes = changed.get(key)
            yield r if changes is None else _at(changes, seq, r)
        for key in self.lineage.added[:self._count]:
            yield _at(changed[key], seq, None)

    def items(self) -> Iterator[tuple[str, ClusterR]]:  # type: ignore[override]
        return zip(self.keys(), self.values())

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __len__(self) -> int:
        return len(self.lineage.base) + self._count

    def __bool__(self) -> bool:
        return len(self) > 0

    def materialized(self) -> Resources[ClusterR]:
        """This version's table as plain ``Resources``."""
        table: Resources[ClusterR] = Resources()
        for r in self.values():
            dict.__setitem__(table, r.id.lower(), r)
            table._names.setdefault(r.name.lower(), self.named(r.name))
        return table

    # the patch's writes -------------------------------------------------------------------
    def add(self, r: ClusterR) -> None:
        key, lineage = r.id.lower(), self.lineage
        if self.by_key(key) is None:
            lineage.added.append(key)
            self._count += 1
        lineage.changed.setdefault(key, []).append((self.seq, r))
        lineage.entries += 1

    def set_named(self, name: str, clusters: list[ClusterR]) -> None:
        self.lineage.names.setdefault(name.lower(), []).append((self.seq, clusters))
        self.lineage.entries += 1


class VersionedKeys:
    """One version's agent key table (``Index.cluster_for_agent_key``) over the one it was carried from:
    key -> cluster, with this version's changes appended under its number. ``shared`` is never set:
    a patch that would share a key drops the table (the version computes its own when asked)."""

    shared = False

    def __init__(self, base: AgentKeys, changed: dict[bytes, History], seq: int) -> None:
        self.base, self.changed, self.seq = base, changed, seq

    @classmethod
    def after(cls, old: AgentKeys | VersionedKeys, seq: int) -> VersionedKeys:
        """The table of the version numbered ``seq``; 1 (a new cluster lineage) starts a new one here too."""
        if isinstance(old, VersionedKeys) and seq > 1:
            return cls(old.base, old.changed, seq)
        if isinstance(old, VersionedKeys):  # start over from this version's table
            old = AgentKeys(old.items())
        return cls(old, {}, seq)

    def get(self, der: bytes) -> ClusterR | None:
        changes = self.changed.get(der)
        base = self.base.get(der)
        return base if changes is None else _at(changes, self.seq, base)

    def set(self, der: bytes, r: ClusterR | None) -> None:
        self.changed.setdefault(der, []).append((self.seq, r))

    def items(self) -> Iterator[tuple[bytes, ClusterR]]:
        for der in {**dict.fromkeys(self.base), **dict.fromkeys(self.changed)}:
            r = self.get(der)
            if r is not None:
                yield der, r
