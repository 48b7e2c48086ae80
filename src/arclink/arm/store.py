"""The emulator's store: ARM resources as JSON, keyed by lower-case id, durable in SQLite.

Every resource lives in memory as encoded JSON (a GET answers with the stored bytes)
and, unless in-memory, in ``arm.db`` (WAL, ``synchronous=FULL``: an acknowledged write
survives ``kill -9``). Collections (the URL a list is served from) are kept as ordered
key sets so lists are cheap. On-premises facts and settings live in ``meta``.
"""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import Future
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

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


def collection_keys(key: str) -> tuple[str, ...]:
    """The list URLs (lower-case) a resource appears in: its parent collection and, for
    top-level resources in a resource group, the subscription-wide list."""
    coll = key.rsplit("/", 1)[0]
    parts = key.split("/")
    # /subscriptions/s/resourcegroups/rg/providers/ns/type/name -> /subscriptions/s/providers/ns/type
    if len(parts) == 9 and parts[3] == "resourcegroups" and parts[5] == "providers":
        return coll, f"/subscriptions/{parts[2]}/providers/{parts[6]}/{parts[7]}"
    return (coll,)


class Store:
    def __init__(self, path: str | Path | None = None):
        self.path = str(path) if path else None
        self.lock = threading.RLock()
        self.bodies: dict[str, bytes] = {}
        self.colls: dict[str, dict[str, None]] = {}
        self.meta: dict[str, object] = {}
        self._seq = 0
        self._db = None
        self._pending: list | None = None
        self.generation = 0  # bumped on every write; readers of derived state key on it
        # group commit: a writer thread commits everything queued meanwhile in one transaction
        self._queue: list = []
        self._cv = threading.Condition()
        self._writer: threading.Thread | None = None
        self._futures: list[Future] = []
        self._seqs: dict[str, int] = {}
        if self.path:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            for key, seq, body in self._db.execute("SELECT key, seq, body FROM resources ORDER BY seq"):
                self._index(key, bytes(body))
                self._seqs[key] = seq
                self._seq = seq
            for key, value in self._db.execute("SELECT key, value FROM meta"):
                self.meta[key] = _dec.decode(value)

    def _index(self, key: str, body: bytes) -> None:
        self.bodies[key] = body
        for c in collection_keys(key):
            self.colls.setdefault(c, {})[key] = None

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

    def __len__(self) -> int:
        return len(self.bodies)

    # writes ----------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group several writes into one durable commit (a cascade is all or nothing)."""
        if self._pending is not None:
            yield
            return
        # readers (a live-model rebuild on another thread) see the batch whole or not at all
        with self.lock:
            self._pending = []
            try:
                yield
                self._flush(self._pending)
            finally:
                self._pending = None

    def start_group_commit(self) -> None:
        """From now on commits happen on a writer thread; ``take_futures()`` says when they are durable."""
        if self._db is None or self._writer is not None:
            return
        self._writer = threading.Thread(target=self._write_loop, name="arclink-store-writer", daemon=True)
        self._writer.start()

    def take_futures(self) -> list[Future]:
        """The commits started since the last call (each resolves once on disk)."""
        futs, self._futures = self._futures, []
        return futs

    def _flush(self, ops: list, track: bool = True) -> None:
        if not ops or self._db is None:
            return
        if self._writer is not None:
            fut: Future = Future()
            with self._cv:
                self._queue.append((ops, fut))
                self._cv.notify()
            if track:
                self._futures.append(fut)
            return
        with self.lock:
            self._commit(ops)

    def _write_loop(self) -> None:
        while True:
            with self._cv:
                while not self._queue:
                    self._cv.wait()
                batch, self._queue = self._queue, []
            closing = any(ops is None for ops, _ in batch)
            try:
                self._commit([op for ops, _ in batch if ops for op in ops])
                for _, fut in batch:
                    fut.set_result(None)
            except BaseException as exc:  # the callers answer with an error
                for _, fut in batch:
                    fut.set_exception(exc)
            if closing:
                return

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
            cur.execute("ROLLBACK")
            raise

    def _apply(self, op: tuple, quiet: bool = False) -> None:
        """Apply to memory at once (reads in a batch see it); the database gets it at commit."""
        with self.lock:
            if op[0] == "put":
                self._index(op[1], op[3])
            elif op[0] == "del":
                self.bodies.pop(op[1], None)
                for c in collection_keys(op[1]):
                    s = self.colls.get(c)
                    if s is not None:
                        s.pop(op[1], None)
                        if not s:
                            del self.colls[c]
            elif op[0] == "meta":
                self.meta[op[1]] = _dec.decode(op[2])
            elif op[0] == "reset":
                self.bodies.clear()
                self.colls.clear()
                self._seqs.clear()
                for k in list(self.meta):
                    if k not in _KEEP:
                        del self.meta[k]
            if not quiet:
                self.generation += 1

    def _op(self, op: tuple) -> None:
        self._apply(op)
        if self._pending is not None:
            self._pending.append(op)
        else:
            self._flush([op])

    def put(self, key: str, obj: dict) -> bytes:
        key = key.lower()
        seq = self._seqs.get(key)
        if seq is None:
            self._seq += 1
            seq = self._seqs[key] = self._seq
        body = _enc.encode(obj)
        self._op(("put", key, seq, body))
        return body

    def put_quiet(self, key: str, obj: dict) -> None:
        """A durable write the live model does not depend on (status fields): no rebuild, from any thread."""
        key = key.lower()
        with self.lock:
            seq = self._seqs.get(key)
            if seq is None:
                return
            op = ("put", key, seq, _enc.encode(obj))
            self._apply(op, quiet=True)
            if self._pending is not None:
                self._pending.append(op)
                return
        self._flush([op], track=False)

    def delete(self, key: str) -> None:
        key = key.lower()
        self._seqs.pop(key, None)
        self._op(("del", key))

    def set_meta(self, key: str, value: Any) -> None:
        self._op(("meta", key, _enc.encode(value)))

    def reset(self) -> None:
        self._op(("reset",))

    def close(self) -> None:
        if self._writer is not None:
            fut: Future = Future()
            with self._cv:
                self._queue.append((None, fut))
                self._cv.notify()
            # wait for what is queued before the close marker
            self._writer.join(timeout=30)
            self._writer = None
        if self._db is not None:
            with self.lock:
                self._db.close()
                self._db = None
