"""Replaced versions of the live model are freed a piece at a time, and nothing anyone holds is changed.

``arm.retired`` empties a version's containers itself so that no single step frees half a million
objects; these tests hold it to freeing what nobody holds and to leaving alone what somebody does:
a reader's version, a part a newer version shares, an object something holds a weak reference to.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from arclink.arm.retired import RetiredVersions, _parts
from arclink.model import loader
from arclink.model.index import Index

GOOD = Path(__file__).resolve().parents[2] / "examples" / "good.yaml"


def _index() -> Index:
    return loader.load(GOOD)


def _describe(ix: Index) -> list:
    """What a reader of ``ix`` sees of its clusters, sites and scopes."""
    return [
        [(c.id, c.site.name if c.site else None, c.scope.id if c.scope else None, c.address) for c in ix.clusters.values()],
        [(h.path, [c.id for c in ix.clusters_in(h)]) for h in [*ix.sites.values(), *ix.scopes.values()]],
        [c.name for c in ix.topology.clusters],
        sorted(ix.vnets), sorted(ix.endpoints), sorted(ix.zones),
    ]


class _Version:
    """A stand-in version: long containers of its own, and one shared with whoever made it."""

    def __init__(self, shared: dict) -> None:
        self.own = {f"k{i}": [f"v{i}"] * 40 for i in range(200)}
        self.rows = [(i, [i] * 40) for i in range(200)]
        self.shared = shared


def test_a_version_nothing_holds_is_freed() -> None:
    ix = _index()
    clusters = [weakref.ref(c) for c in ix.clusters.values()]
    retired = RetiredVersions()
    retired.retire(ix)
    del ix
    assert retired.sweep() == 0 and retired.freed == 1
    assert clusters and all(c() is None for c in clusters)


def test_a_version_a_reader_holds_is_kept_whole_then_freed_when_let_go() -> None:
    ix = _index()
    seen = _describe(ix)
    retired = RetiredVersions()
    retired.retire(ix)
    assert retired.sweep() == 1 and retired.freed == 0, "a version a reader holds stays"
    assert _describe(ix) == seen, "and is not changed"
    clusters = [weakref.ref(c) for c in ix.clusters.values()]
    del ix
    assert retired.sweep() == 0 and retired.freed == 1
    assert all(c() is None for c in clusters)


def test_a_part_shared_with_a_newer_version_is_left_alone() -> None:
    shared = {f"s{i}": [i] * 40 for i in range(200)}
    expected = {k: list(v) for k, v in shared.items()}
    retired = RetiredVersions()
    retired.retire(_Version(shared))
    assert retired.sweep() == 0 and retired.freed == 1
    assert shared == expected


def test_an_index_whose_sites_and_scopes_a_newer_index_shares_leaves_them_whole() -> None:
    old, new = _index(), _index()
    # a patched version shares the sites and scopes of the one before it (``model.cluster_patch``)
    new.sites, new.scopes = old.sites, old.scopes
    seen = [(s.path, s.networks, s.connections) for s in new.sites.values()]
    eps = [(s.id, list(s.endpoints)) for s in new.scopes.values()]
    retired = RetiredVersions()
    retired.retire(old)
    del old
    assert retired.sweep() == 0
    assert [(s.path, s.networks, s.connections) for s in new.sites.values()] == seen
    assert [(s.id, list(s.endpoints)) for s in new.scopes.values()] == eps


class _Watched:
    """An object that says, as it goes, whether its attributes were still there."""

    found: list[int] = []

    def __init__(self) -> None:
        self.big = list(range(1000))

    def __del__(self) -> None:
        _Watched.found.append(len(getattr(self, "big", ())))


def test_an_object_held_by_a_weak_reference_is_let_go_of_whole() -> None:
    _Watched.found.clear()
    obj = _Watched()
    ref = weakref.ref(obj)  # whoever holds this could get it back while it is being emptied
    retired = RetiredVersions()
    retired.retire(obj)
    del obj
    assert retired.sweep() == 0
    assert ref() is None and _Watched.found == [1000]


def test_an_object_with_a_finaliser_is_let_go_of_whole() -> None:
    _Watched.found.clear()
    retired = RetiredVersions()
    retired.retire({"versions": [_Watched() for _ in range(40)]})
    assert retired.sweep() == 0
    assert _Watched.found == [1000] * 40, "each finaliser saw what its object held"


def test_what_a_sweep_frees_needs_no_pass_of_the_collector() -> None:
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        ix = _index()
        clusters = [weakref.ref(c) for c in ix.clusters.values()]
        retired = RetiredVersions()
        retired.retire(ix)
        del ix
        retired.sweep()
        assert all(c() is None for c in clusters)
    finally:
        if was:
            gc.enable()


class _Table(dict):
    """A container with attributes of its own, as ``model.resolved.Resources`` is."""

    def __init__(self) -> None:
        super().__init__({f"k{i}": i for i in range(100)})
        self.names = {f"n{i}": [i] for i in range(100)}

    def __len__(self) -> int:  # reads through to something else, as ``versioned.ClusterTable`` does
        return 0


def test_a_version_is_taken_apart_not_let_go_of_whole() -> None:
    """What makes a sweep a series of small steps: each object it alone holds gives up its references
    (its attributes, a container's items) to the sweep, which lets go of them a slice at a time."""
    version = _Version({})
    own, rows = version.own, version.rows
    parts = _parts(version)
    assert vars(version) == {} and any(p is own for p in parts) and any(p is rows for p in parts)
    table = _Table()
    names = table.names
    parts = _parts(table)
    assert dict.__len__(table) == 0 and vars(table) == {}, "items and attributes both taken out"
    assert any(p is names for p in parts) and sum(isinstance(p, int) for p in parts) == 100


class _Node:
    def __init__(self) -> None:
        self.peer: _Node | None = None
        self.items = [object() for _ in range(3)]


def _nodes() -> int:
    return sum(isinstance(o, _Node) for o in gc.get_objects())


def test_a_networks_cycles_are_broken_unless_something_outside_refers_to_them() -> None:
    gc.collect()
    was = gc.isenabled()
    gc.disable()  # what is freed here is freed without the collector
    try:
        before = _nodes()
        a, b, c, d = _Node(), _Node(), _Node(), _Node()
        a.peer, b.peer, c.peer, d.peer = b, a, d, c  # two cycles
        reader = [d]  # a reader holds one of the second
        retired = RetiredVersions()
        retired.retire({"table": [a, b, c, d], "rows": list(range(100))}, [a, b, c, d])
        del a, b, c, d
        assert retired.sweep() == 0
        assert _nodes() - before == 2, "the cycle nothing refers to is freed, the other stays"
        held = reader[0]
        assert held.peer is not None and held.peer.peer is held and len(held.peer.items) == 3, "and stays whole"
    finally:
        if was:
            gc.enable()
