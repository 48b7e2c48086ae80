"""The emulator's store: ARM resources as JSON, keyed by lower-case id, durable in SQLite.

Every resource lives in memory as encoded JSON (a GET answers with the stored bytes)
and, unless in-memory, in ``arm.db`` (WAL, ``synchronous=FULL``: an acknowledged write
survives ``kill -9``). Collections (the URL a list is served from) are kept as ordered
key sets so lists are cheap. On-premises facts and settings live in ``meta``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from arclink.arm.store_keys import collection_keys, is_network_key, is_scope_key

_enc = msgspec.json.Encoder()


class _Slim(msgspec.Struct, omit_defaults=True):
    id: str = ""
    name: str | None = None
    type: str | None = None
    location: str | None = None
    tags: dict | None = None
    properties: dict | None = None
    namespace: str | None = None
    registrationState: str | None = None


_slim = msgspec.json.Decoder(_Slim)
_SLIM_FIELDS = _Slim.__struct_fields__


def _slim_dict(o: _Slim) -> dict:
    return {f: v for f in _SLIM_FIELDS if (v := getattr(o, f)) is not None}


_KEEP = ("tenant", "subscription", "token")
_dec = msgspec.json.Decoder()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


class StoreCorrupt(Exception):
    """The database file exists but cannot be the emulator's state (empty, damaged, or another database)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path} is not a usable arclink state database: {reason}")
        self.path, self.reason = path, reason


class StoreWriteError(Exception):
    """A write could not be made durable; memory is as it was before the write."""

    def __init__(self, cause: sqlite3.Error) -> None:
        super().__init__(str(cause))
        self.cause = cause
        # decided from SQLite's result code, not from the message
        self.disk_full = getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


_ABSENT = object()
MAX_TOUCHED = 50_000  # more keys than this since the last look: cheaper to start over


@dataclass
class _Unit:
    """Writes applied to memory together (one op or one batch), waiting to be durable."""

    ops: list
    undo: list
    future: Future | None = None
    done: bool = False


class Store:
    def __init__(self, path: str | Path | None = None):
        self.path = str(path) if path else None
        self.lock = threading.RLock()
        self.bodies: dict[str, bytes] = {}
        # the keys of resource groups and networking resources (what a network write's check reads),
        # in the order of ``bodies``: that check does not walk 100k clusters' keys
        self.network_keys: dict[str, None] = {}
        self.scope_keys: dict[str, None] = {}  # likewise the scopes' (``names_objects``)
        self.colls: dict[str, dict[str, None]] = {}
        self.meta: dict[str, object] = {}
        self._seq = 0
        self._db: sqlite3.Connection | None = None
        self._pending: _Unit | None = None
        self.generation = 0  # bumped on every write; readers of derived state key on it
        # the keys written since the live model last looked (``take_touched``); None: more than keys
        # changed (settings, a reset, too many to list), so what derives from the store starts over
        self._touched: dict[str, bool] | None = {}  # key -> deleted at some point since
        # bumped by writes that may change what names resolve to, as ``affects_names`` (set by the
        # live model) judges at write time: a DNS query compares one integer, not the pending keys.
        # It is told every change, under the store's lock: (key, deleted), key None where more than
        # keys changed (the live model also counts by it the writes its admissions need it to rebuild for)
        self.names_generation = 0
        self.affects_names: Callable[[str | None, bool], bool] | None = None
        # told each new names generation, under the store's lock (the DNS process's shared count)
        self.names_watchers: list[Callable[[int], None]] = []
        # group commit: a writer thread commits everything queued meanwhile in one transaction
        self._queue: list[_Unit | None] = []  # None: the close marker
        self._cv = threading.Condition()
        self._writer: threading.Thread | None = None
        self._futures: list[Future] = []
        self._seqs: dict[str, int] = {}
        self._unacked: list[_Unit] = []  # applied to memory, not yet durable, in the order applied
        if self.path:
            self._open(self.path)

    def _open(self, path: str) -> None:
        existed = Path(path).exists()
        if existed and Path(path).stat().st_size == 0 and not _nonempty(path + "-wal"):
            raise StoreCorrupt(path, "the file is empty")
        try:
            db = self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if existed and not {"resources", "meta"} <= tables:
                raise StoreCorrupt(path, "it has no arclink tables (another program's database, or a file cut short)")
            db.executescript(_SCHEMA)
            for key, seq, body in db.execute("SELECT key, seq, body FROM resources ORDER BY seq"):
                self._index(key, bytes(body))
                self._seqs[key] = seq
                self._seq = seq
            for key, value in db.execute("SELECT key, value FROM meta"):
                self.meta[key] = _dec.decode(value)
        except StoreCorrupt:
            self._close_db()
            raise
        except sqlite3.DatabaseError as exc:
            self._close_db()
            if getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
                raise StoreCorrupt(path, str(exc)) from None
            raise  # cannot open at all (permissions, a directory): the caller says so
        except msgspec.DecodeError as exc:
            self._close_db()
            raise StoreCorrupt(path, f"a stored setting is not JSON ({exc})") from None

    def _close_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _index(self, key: str, body: bytes) -> None:
        self.bodies[key] = body
        self._note(key)
        for c in collection_keys(key):
            self.colls.setdefault(c, {})[key] = None

    def _note(self, key: str) -> None:
        if is_network_key(key):
            self.network_keys[key] = None
        elif is_scope_key(key):
            self.scope_keys[key] = None

    # reads ------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        return self.bodies.get(key.lower())

    def get_obj(self, key: str) -> dict | None:
        b = self.bodies.get(key.lower())
        return _dec.decode(b) if b is not None else None

    def list_keys(self, coll: str) -> list[str]:
        return list(self.colls.get(coll.lower(), ()))

    def keys_under(self, prefix: str) -> list[str]:
        p = prefix.lower().rstrip("/") + "/"
        return [k for k in self.bodies if k.startswith(p)]

    def all_objects(self) -> list[dict]:
        with self.lock:
            bodies = list(self.bodies.values())
        return [_dec.decode(b) for b in bodies]

    def model_objects(self) -> list[dict]:
        """Every resource without the fields the model never reads (systemData, etag): less memory
        while the live index is rebuilt from 100k resources."""
        with self.lock:
            bodies = list(self.bodies.values())
        return [_slim_dict(_slim.decode(b)) for b in bodies]

    def names_objects(self) -> list[dict]:
        """What names resolve from (resource groups, provider registrations, networking, private link
        scopes: hundreds of resources, not 100k clusters), in the store's order."""
        with self.lock:
            keys = sorted([*self.network_keys, *self.scope_keys], key=self.seq)
            bodies = [self.bodies[k] for k in keys]
        return [_slim_dict(_slim.decode(b)) for b in bodies]

    def __len__(self) -> int:
        return len(self.bodies)

    # writes ----------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group several writes into one durable commit (a cascade is all or nothing).

        A batch left by an exception (a refusal half-way through a cascade) takes its
        writes back out of memory: nothing of it reaches the database."""
        if self._pending is not None:
            yield
            return
        # readers (a live-model rebuild on another thread) see the batch whole or not at all
        with self.lock:
            unit = self._pending = _Unit([], [])
            try:
                yield
            except BaseException:
                self._pending = None
                self._undo(unit.undo)
                raise
            self._pending = None
            self._submit(unit)

    def start_group_commit(self) -> None:
        """From now on commits happen on a writer thread; ``take_futures()`` says when they are durable."""
        if self._db is None or self._writer is not None:
            return
        self._writer = threading.Thread(target=self._write_loop, name="arclink-store-writer", daemon=True)
        self._writer.start()

    def take_futures(self) -> list[Future]:
        """The commits started since the last call (each resolves once on disk, or fails with StoreWriteError)."""
        futs, self._futures = self._futures, []
        return futs

    def _submit(self, unit: _Unit, track: bool = True) -> None:
        """Hand a unit already applied to memory to the database (called holding ``self.lock``)."""
        if not unit.ops:
            return
        if self._db is None:
            return
        if self._writer is not None:
            unit.future = Future()
            self._unacked.append(unit)
            with self._cv:
                self._queue.append(unit)
                self._cv.notify()
            if track:
                self._futures.append(unit.future)
            return
        try:
            self._commit(unit.ops)
        except sqlite3.Error as exc:
            self._undo(unit.undo)
            raise StoreWriteError(exc) from exc

    def _write_loop(self) -> None:
        while True:
            with self._cv:
                while not self._queue:
                    self._cv.wait()
                batch, self._queue = self._queue, []
            closing = any(u is None for u in batch)
            units: list[_Unit] = [u for u in batch if u is not None]
            try:
                self._commit([op for u in units for op in u.ops])
            except sqlite3.Error as exc:
                self._fail(units, StoreWriteError(exc))
            except BaseException as exc:  # a bug: still answer every waiting writer
                self._fail(units, exc)
            else:
                with self.lock:
                    for u in units:
                        u.done = True
                    self._unacked = [u for u in self._unacked if not u.done]
                for u in units:
                    if u.future is not None:
                        u.future.set_result(None)
            if closing:
                return

    def _fail(self, units: list[_Unit], exc: BaseException) -> None:
        """A group did not reach the disk: take it, and everything applied after it, back out of memory."""
        with self.lock:
            with self._cv:  # what is queued behind was applied on top of the failed group: it goes too
                later = [u for u in self._queue if u is not None]
                self._queue = [u for u in self._queue if u is None]
            failed = self._unacked
            self._unacked = []
            for u in reversed(failed):
                self._undo(u.undo)
            self.generation += 1
        for u in {id(u): u for u in units + later + failed}.values():
            if u.future is not None and not u.future.done():
                u.future.set_exception(exc)

    def _commit(self, ops: list) -> None:
        if not ops:
            return
        if self._db is None:
            return
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for op in ops:
                if op[0] == "put":
                    cur.execute("INSERT OR REPLACE INTO resources(key, seq, body) VALUES (?, ?, ?)", op[1:])
                elif op[0] == "del":
                    cur.execute("DELETE FROM resources WHERE key = ?", (op[1],))
                elif op[0] == "meta":
                    cur.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", op[1:])
                elif op[0] == "reset":
                    cur.execute("DELETE FROM resources")
                    cur.execute(f"DELETE FROM meta WHERE key NOT IN {_KEEP!r}")
            cur.execute("COMMIT")
        except BaseException:
            # SQLite has already rolled back after some failures (SQLITE_FULL): a second
            # ROLLBACK would fail and hide the real cause
            if self._db.in_transaction:
                try:
                    cur.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise

    def _apply(self, op: tuple, quiet: bool = False) -> tuple:
        """Apply to memory at once (reads in a batch see it); the database gets it at commit.
        Returns what undoes it."""
        with self.lock:
            if op[0] in ("put", "del"):
                key = op[1]
                undo: tuple = ("key", key, self.bodies.get(key), self._seqs.get(key))
                if op[0] == "put":
                    self._seqs[key] = op[2]
                    self._index(key, op[3])
                else:
                    self._seqs.pop(key, None)
                    self._unindex(key)
            elif op[0] == "meta":
                undo = ("meta", op[1], self.meta.get(op[1], _ABSENT))
                self.meta[op[1]] = _dec.decode(op[2])
            else:  # reset
                undo = ("all", dict(self.bodies), {c: dict(s) for c, s in self.colls.items()}, dict(self._seqs),
                        dict(self.meta))
                self.bodies.clear()
                self.network_keys.clear()
                self.scope_keys.clear()
                self.colls.clear()
                self._seqs.clear()
                for k in list(self.meta):
                    if k not in _KEEP:
                        del self.meta[k]
            if not quiet:
                self.generation += 1
                self._touch(op[1] if op[0] in ("put", "del") else None, op[0] == "del")
            return undo

    def _touch(self, key: str | None, deleted: bool = False) -> None:
        if self.affects_names(key, deleted) if self.affects_names is not None else True:
            self.names_generation += 1
            for watcher in self.names_watchers:
                watcher(self.names_generation)
        if key is None or self._touched is None or len(self._touched) >= MAX_TOUCHED:
            self._touched = None
        else:
            self._touched[key] = deleted or self._touched.get(key, False)

    def take_touched(self) -> tuple[int, int, dict[str, bool] | None]:
        """The generation, the names generation, and the keys written since the last call, each with
        whether it was deleted meanwhile (None: start over from the whole store)."""
        with self.lock:
            touched, self._touched = self._touched, {}
            return self.generation, self.names_generation, touched

    def seq(self, key: str) -> int:
        """A stored key's creation order (0: not stored): resources list, and the model reads them, in it."""
        return self._seqs.get(key, 0)

    def _unindex(self, key: str) -> None:
        self.bodies.pop(key, None)
        self.network_keys.pop(key, None)
        self.scope_keys.pop(key, None)
        for c in collection_keys(key):
            s = self.colls.get(c)
            if s is not None:
                s.pop(key, None)
                if not s:
                    del self.colls[c]

    def _undo(self, undo: list) -> None:
        """Put memory back as it was before the changes ``undo`` records (newest first)."""
        with self.lock:
            for u in reversed(undo):
                if u[0] == "key":
                    _, key, body, seq = u
                    self._touch(None)  # put back where it was in order: the live model starts over
                    if body is None:
                        self._seqs.pop(key, None)
                        self._unindex(key)
                        continue
                    self._seqs[key] = seq
                    self.bodies[key] = body
                    self._note(key)
                    for c in collection_keys(key):
                        self._reinsert(c, key)
                elif u[0] == "meta":
                    self._touch(None)
                    if u[2] is _ABSENT:
                        self.meta.pop(u[1], None)
                    else:
                        self.meta[u[1]] = u[2]
                else:
                    self._touch(None)
                    _, bodies, colls, seqs, meta = u
                    self.bodies, self.colls, self._seqs = bodies, colls, seqs
                    self.network_keys, self.scope_keys = {}, {}
                    for key in bodies:
                        self._note(key)
                    self.meta.clear()
                    self.meta.update(meta)
            if undo:
                self.generation += 1

    def _reinsert(self, coll: str, key: str) -> None:
        """Put ``key`` back into a collection where it was: collections list keys in seq order."""
        s = self.colls.setdefault(coll, {})
        if key in s:
            return
        s[key] = None
        keys = list(s)
        if len(keys) > 1 and self._seqs.get(keys[-2], 0) > self._seqs[key]:
            self.colls[coll] = dict.fromkeys(sorted(keys, key=lambda k: self._seqs.get(k, 0)))

    def _op(self, op: tuple, quiet: bool = False, track: bool = True) -> None:
        with self.lock:  # applied and queued in one step: the queue is in the order memory changed
            undo = self._apply(op, quiet)
            if self._pending is not None:
                self._pending.ops.append(op)
                self._pending.undo.append(undo)
            else:
                self._submit(_Unit([op], [undo]), track=track)

    def put(self, key: str, obj: dict) -> bytes:
        key = key.lower()
        body = _enc.encode(obj)
        with self.lock:
            seq = self._seqs.get(key)
            if seq is None:
                self._seq += 1
                seq = self._seq
            self._op(("put", key, seq, body))
        return body

    def put_quiet(self, key: str, obj: dict) -> None:
        """A durable write the live model does not depend on (status fields): no rebuild, from any thread."""
        key = key.lower()
        with self.lock:
            seq = self._seqs.get(key)
            if seq is None:
                return
            self._op(("put", key, seq, _enc.encode(obj)), quiet=True, track=False)

    def delete(self, key: str) -> None:
        self._op(("del", key.lower()))

    def set_meta(self, key: str, value: Any) -> None:
        self._op(("meta", key, _enc.encode(value)))

    def reset(self) -> None:
        self._op(("reset",))

    def close(self) -> None:
        if self._writer is not None:
            with self._cv:
                self._queue.append(None)
                self._cv.notify()
            # wait for what is queued before the close marker
            self._writer.join(timeout=30)
            self._writer = None
        with self.lock:
            self._close_db()


def _nonempty(path: str) -> bool:
    try:
        return Path(path).stat().st_size > 0
    except OSError:
        return False
