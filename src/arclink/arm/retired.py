"""Versions the live model replaced, freed a piece at a time by the thread that sweeps them.

A version of the live model at 100k clusters is about half a million objects. Freed at once when
the last reader lets go of it, it is one cascade of deallocations in C (0.12-0.17 s at 100k), in
whichever thread that happens to be, and no other thread runs meanwhile: a gateway admission that
drops the last reference pays for it, and every admission waits behind it. So the live model hands
each version it replaces to ``RetiredVersions``, which holds it until nothing else does, and
``sweep`` then empties it container by container in a Python loop, which the interpreter can
interrupt like any other: no single step frees more than a few hundred small objects.

Nothing anyone else can reach is changed. A container is emptied, or an object taken apart, only
when its reference count shows that the sweep holds the only reference to it, and never an object
something holds a weak reference to (that could hand it back half-emptied) or one with a finaliser
(``__del__`` may read what it holds): such an object is let go of whole. Parts a retired version
shares with a newer one (catalogue objects, or whatever a reader still holds) are only let go of.

A version's network has cycles of its own (an endpoint and its scope, a VNet and its subnets: a few
hundred objects). Frozen out of the collector's passes with the rest of the version, they would
wait for a full pass over the whole estate (1 s at 100k clusters, in one step). So ``retire`` takes
the version's network objects beside it, and once the version is emptied, ``sweep`` applies the
collector's own reasoning to what they reach, and nothing else: an object every reference to which
comes from inside that set is garbage, and so is what only garbage refers to. Those it breaks
(clears their lists, dicts and attributes), and they go by reference counts. What something
outside still refers to (a reader's cluster holds its scope) stays whole.
"""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from types import FunctionType, MethodType, ModuleType
from typing import Any

import msgspec

_BIG = 32  # a container longer than this is emptied an item at a time; a shorter one is looked into
_SLICE = 256  # parts let go of in one step when none of them holds a long container
_LOOK = 3  # how deep a part is looked into for a long container before it is let go of whole
_CONTAINERS = (list, dict, set, frozenset, tuple)
_ATOMS = (str, bytes, int, float, bool, type(None))
_NOT_DATA = (type, ModuleType, FunctionType, MethodType)  # never part of a version: never looked into
_MAX_SCAN = 100_000  # objects a network's cycles are looked for among; more: left to the collector's full pass


class RetiredVersions:
    """What the live model replaced, until ``sweep`` frees it. Thread-safe; ``sweep`` runs in one thread."""

    def __init__(self) -> None:
        self._held: list[Any] = []
        self._lock = threading.Lock()
        self.freed = 0  # versions freed so far (tests read it)

    def retire(self, version: Any, network: list[Any] | None = None) -> None:
        """Hold ``version`` until ``sweep`` frees it; ``network``: its objects that may form cycles."""
        with self._lock:
            self._held.append((version, network or []))

    def __len__(self) -> int:
        return len(self._held)

    def sweep(self) -> int:
        """Free every retired version nothing else holds; return how many are still held elsewhere."""
        with self._lock:
            held, self._held = self._held, []
        kept: list[Any] = []
        small: set[type] = set(_ATOMS)  # kinds of which an instance held no long container: let go of whole
        while held:
            version, network = held.pop()
            work = [version]
            del version
            if sys.getrefcount(work[0]) > 2:  # ``work``'s reference and the call's: someone else has it
                kept.append((work.pop(), network))
                continue
            _empty(work, small)
            _break_cycles(network)
            self.freed += 1
        with self._lock:
            self._held.extend(kept)
            return len(self._held)


def _empty(work: list[Any], small: set[type]) -> None:
    """Free what ``work`` holds, each item held by ``work`` alone or shared, a reference at a time."""
    while work:
        obj = work.pop()
        # held by ``obj`` and the call: anything more is someone else's, and is only let go of
        if sys.getrefcount(obj) > 2 or _weakly_held(obj) or _finalised(type(obj)):
            del obj
            continue
        parts = _parts(obj)
        del obj  # its parts are held by ``parts`` now: this frees the object alone
        while parts:
            # a slice of parts none of which holds a long container goes in one step (a few hundred
            # small objects); otherwise the slice goes a part at a time
            if set(map(type, parts[-_SLICE:])) <= small:
                del parts[-_SLICE:]
                continue
            for _ in range(min(_SLICE, len(parts))):
                part = parts.pop()
                if type(part) not in small and _holds_long(part, small, 0):
                    work.append(part)
                del part


def _parts(obj: Any) -> list[Any]:
    """``obj``'s references, taken out of it (``obj`` is held here alone). Containers are read with
    their base type's methods: a subclass (``versioned.ClusterTable``) may read through to others."""
    if type(obj) is list:
        return obj
    out: list[Any] = []
    if isinstance(obj, dict):
        while dict.__len__(obj):  # an item at a time: one copy of 100k items is a step of 8 ms
            out.extend(dict.popitem(obj))
    elif isinstance(obj, list):
        while list.__len__(obj):
            out.append(list.pop(obj))
    elif isinstance(obj, tuple):
        out = [*tuple.__iter__(obj)]
    elif isinstance(obj, set):
        out = [*set.__iter__(obj)]
    elif isinstance(obj, frozenset):
        out = [*frozenset.__iter__(obj)]
    elif isinstance(obj, msgspec.Struct):
        out = list(msgspec.structs.astuple(obj))
    state = getattr(obj, "__dict__", None)
    # the object's reference, ``state`` and the call's: attributes nobody else can reach
    if type(state) is dict and sys.getrefcount(state) == 3:
        while state:
            out.extend(state.popitem())
    return out


def _holds_long(obj: Any, small: set[type], depth: int) -> bool:
    """Whether letting go of ``obj`` could free a long container with it (looked into ``_LOOK`` deep)."""
    kind = type(obj)
    if kind in small or isinstance(obj, (type, ModuleType)):
        return False
    items: Any
    if isinstance(obj, _CONTAINERS):
        # read with the built-in type's methods: a subclass's may read through to others
        base: Any = next(t for t in _CONTAINERS if isinstance(obj, t))
        held: Any = obj
        if base.__len__(held) > _BIG:
            return True
        items = list(base.values(held) if base is dict else base.__iter__(held))  # 32 at most
        state = getattr(obj, "__dict__", None)
        if type(state) is dict and state:
            items += state.values()
        elif set(map(type, items)) <= small:
            return False  # a short container of small things (names, keys): the common case, at C speed
    elif isinstance(obj, msgspec.Struct):
        items = msgspec.structs.astuple(obj)
    else:
        state = getattr(obj, "__dict__", None)
        if type(state) is not dict:
            small.add(kind)  # no attributes to look into (slots, or none): a few objects at most
            return False
        items = state.values()
    if depth >= _LOOK:
        return False
    if any(_holds_long(item, small, depth + 1) for item in items):
        return True
    if not isinstance(obj, _CONTAINERS) and depth == 0:
        small.add(kind)  # one such object held nothing long: its kind is let go of whole from now on
    return False


def _break_cycles(roots: list[Any]) -> None:
    """Break the cycles among what ``roots`` reach that nothing outside it refers to (``roots`` is
    consumed): the collector's reasoning, over a replaced version's network only."""
    index: dict[int, int] = {}
    objs: list[Any] = []
    while roots:
        obj = roots.pop()
        if id(obj) not in index and gc.is_tracked(obj) and not isinstance(obj, _NOT_DATA):
            index[id(obj)] = len(objs)
            objs.append(obj)
            if len(objs) > _MAX_SCAN:
                return
            roots.extend(gc.get_referents(obj))
        del obj
    # references from outside the set: each object's count, less ``objs``' and the call's, less the set's
    # own; one that a weak reference could hand back, or whose finaliser reads it, counts as referred to
    outside = [sys.getrefcount(objs[i]) - 2 + (_weakly_held(objs[i]) or _finalised(type(objs[i])))
               for i in range(len(objs))]
    for i in range(len(objs)):
        for ref in gc.get_referents(objs[i]):
            j = index.get(id(ref))
            if j is not None:
                outside[j] -= 1
    # what is referred to from outside lives, and so does all it reaches
    alive = [i for i, n in enumerate(outside) if n > 0]
    live = set(alive)
    while alive:
        for ref in gc.get_referents(objs[alive.pop()]):
            j = index.get(id(ref))
            if j is not None and j not in live:
                live.add(j)
                alive.append(j)
    for i in range(len(objs)):
        if i not in live:
            _clear(objs[i])
    del objs[:]  # the dead go now, their cycles broken


def _clear(obj: Any) -> None:
    """Drop what ``obj`` refers to (nobody outside the dead set can reach it)."""
    if isinstance(obj, dict):
        dict.clear(obj)
    elif isinstance(obj, list):
        list.clear(obj)
    elif isinstance(obj, set):
        set.clear(obj)
    state = getattr(obj, "__dict__", None)
    if type(state) is dict:
        state.clear()


def _finalised(kind: type) -> bool:
    """Whether instances of ``kind`` have a finaliser (``__del__``) that may read what they hold."""
    known = _FINALISED.get(kind)
    if known is None:
        known = _FINALISED[kind] = any("__del__" in vars(k) for k in kind.__mro__)
    return known


_FINALISED: dict[type, bool] = {}  # kinds seen so far (a version has a few dozen)


def _weakly_held(obj: Any) -> bool:
    try:
        return weakref.getweakrefcount(obj) > 0
    except TypeError:
        return False
