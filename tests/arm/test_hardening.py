"""Hardening: memory never runs ahead of disk, a damaged arm.db is refused, bad bodies get a 4xx.

Drives the ASGI app in process (no sockets). A full disk is made with SQLite's
``max_page_count`` on the store's own connection: deterministic, no tiny filesystem needed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import threading

import pytest

from arclink.arm.app import ArmConfig, create_app
from arclink.arm.live import StoreLiveState
from arclink.arm.store import Store, StoreCorrupt, StoreWriteError
from arclink.arm.wire import MAX_DEPTH

from .arm_fixtures import asgi_call, json_paths, json_replace

SUB = "11111111-2222-3333-4444-555555555555"
TOKEN = "t"
RG = f"/subscriptions/{SUB}/resourceGroups/rg"
NET = f"{RG}/providers/Microsoft.Network"
PLS = f"{RG}/providers/Microsoft.HybridCompute/privateLinkScopes"
ZONE = f"{NET}/privateDnsZones/privatelink.his.arc.azure.com"
HV, NV, DV, RV = "2025-01-13", "2026-03-01", "2024-06-01", "2025-04-01"


class Driver:
    """The ARM app over a store, called in process; bodies may be raw bytes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.live = StoreLiveState(store)
        self.app = create_app(store, self.live, ArmConfig(token=TOKEN, subscription=SUB, tenant=SUB))
        self.loop = asyncio.new_event_loop()

    def call(self, method: str, path: str, body=None, version: str = "") -> tuple[int, dict | None]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
        status, _, payload = asgi_call(self.loop, self.app, method, path, raw, f"api-version={version}" if version else "",
                                       [(b"authorization", f"Bearer {TOKEN}".encode()),
                                        (b"content-length", str(len(raw)).encode())])
        return status, (json.loads(payload) if payload else None)

    def setup(self) -> None:
        for ns in ("Microsoft.HybridCompute", "Microsoft.Network"):
            assert self.call("POST", f"/subscriptions/{SUB}/providers/{ns}/register", version=RV)[0] == 200
        assert self.call("PUT", RG, {"location": "westeurope"}, RV)[0] == 201

    def close(self) -> None:
        self.live.close()
        self.loop.close()


@pytest.fixture
def drv():
    d = Driver(Store(None))
    d.setup()
    yield d
    d.close()


def _fill_disk(store: Store) -> None:
    """The database may not grow by one page more: the next write that needs space fails with SQLITE_FULL."""
    db = store._db
    assert db is not None
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")


def _free_disk(store: Store) -> None:
    assert store._db is not None
    store._db.execute("PRAGMA max_page_count = 1073741823")


def _big(n: int = 0) -> dict:
    return {"location": "westeurope", "tags": {"pad": f"{n}" + "x" * 60000}}  # needs new pages


def _state(store: Store):
    return (dict(store.bodies), {c: list(s) for c, s in store.colls.items()}, dict(store._seqs), dict(store.meta))


# --- 8: a failed commit leaves memory as it was ---------------------------------------------------------

@pytest.mark.parametrize("group_commit", [False, True])
def test_disk_full_write_is_refused_and_leaves_memory_as_it_was(tmp_path, group_commit):
    db = tmp_path / "arm.db"
    store = Store(db)
    if group_commit:
        store.start_group_commit()
    d = Driver(store)
    try:
        d.setup()
        assert d.call("PUT", f"{PLS}/kept", {"location": "westeurope"}, HV)[0] == 201
        before, generation = _state(store), store.generation
        _fill_disk(store)
        status, doc = d.call("PUT", f"{PLS}/lost", _big(), HV)
        assert status == 507, doc
        assert doc["error"]["code"] == "InsufficientStorage"
        assert "database or disk is full" in doc["error"]["message"]
        assert "rollback" not in doc["error"]["message"]
        assert _state(store) == before and store.generation > generation
        assert d.call("GET", f"{PLS}/lost", version=HV)[0] == 404
        names = [r["name"] for r in d.call("GET", PLS, version=HV)[1]["value"]]
        assert names == ["kept"]
        # writes resume once space returns
        _free_disk(store)
        assert d.call("PUT", f"{PLS}/later", _big(), HV)[0] == 201
    finally:
        d.close()
        store.close()
    reopened = Store(db)
    try:
        assert reopened.get(f"{PLS}/later".lower()) is not None
        assert reopened.get(f"{PLS}/lost".lower()) is None
        assert reopened.get(f"{PLS}/kept".lower()) is not None
    finally:
        reopened.close()


def test_a_failed_group_rolls_back_every_write_in_it_and_after_it(tmp_path):
    db = tmp_path / "arm.db"
    store = Store(db)
    store.start_group_commit()
    real = store._commit
    entered, release = threading.Event(), threading.Event()
    calls = itertools.count()

    def commit(ops):
        n = next(calls)
        if n == 0:  # hold the first group until the next writes are queued behind it
            entered.set()
            release.wait(30)
        elif n == 1:  # the second group (several writes) meets a full disk
            _fill_disk(store)
        return real(ops)

    store._commit = commit  # type: ignore[method-assign]
    try:
        store.put("/a", {"n": 1})
        assert entered.wait(30)
        before = _state(store)
        store.take_futures()
        store.put("/b", _big(1))
        with store.batch():
            store.put("/c", _big(2))
            store.delete("/a")
        store.set_meta("m", {"x": 1})
        later = store.take_futures()
        assert len(later) == 3
        assert store.get("/b") is not None and store.get("/a") is None  # applied to memory, not yet durable
        release.set()
        errors = []
        for fut in later:
            with pytest.raises(StoreWriteError) as info:
                fut.result(30)
            errors.append(info.value)
        assert all(e.disk_full for e in errors)
        # memory is as it was once /a was written: /a is back, nothing of the failed group remains
        assert _state(store) == before
        assert store.get_obj("/a") == {"n": 1}
        _free_disk(store)
        store.put("/d", {"n": 4})
        for fut in store.take_futures():
            fut.result(30)
    finally:
        store.close()
    reopened = Store(db)
    try:
        assert sorted(reopened.bodies) == ["/a", "/d"] and "m" not in reopened.meta
    finally:
        reopened.close()


def test_a_refusal_half_way_through_a_batch_takes_its_writes_back():
    store = Store(None)
    store.put("/subscriptions/s/resourcegroups/rg", {"n": 0})
    store.set_meta("k", 1)
    before = _state(store)
    with pytest.raises(RuntimeError):
        with store.batch():
            store.put("/subscriptions/s/resourcegroups/rg/x", {"n": 1})
            store.delete("/subscriptions/s/resourcegroups/rg")
            store.set_meta("k", 2)
            store.reset()
            raise RuntimeError("refused")
    assert _state(store) == before


def test_undoing_a_delete_keeps_the_list_order(tmp_path):
    store = Store(tmp_path / "arm.db")
    try:
        for name in "abc":
            store.put(f"/subscriptions/s/resourcegroups/{name}", {"n": name})
        _fill_disk(store)
        with pytest.raises(StoreWriteError):
            with store.batch():
                store.delete("/subscriptions/s/resourcegroups/a")
                store.put("/subscriptions/s/resourcegroups/z", _big())
        assert store.list_keys("/subscriptions/s/resourcegroups") == [
            f"/subscriptions/s/resourcegroups/{n}" for n in "abc"]
    finally:
        store.close()


def test_reset_that_cannot_be_written_restores_everything(tmp_path):
    store = Store(tmp_path / "arm.db")
    try:
        store.put("/subscriptions/s/resourcegroups/a", {"n": 1})
        store.set_meta("onprem", {"sites": {}})
        before = _state(store)
        real = store._commit

        def failing(ops):
            raise sqlite3.OperationalError("disk I/O error")

        store._commit = failing  # type: ignore[method-assign]
        with pytest.raises(StoreWriteError) as info:
            store.reset()
        assert not info.value.disk_full
        assert _state(store) == before
        store._commit = real  # type: ignore[method-assign]
    finally:
        store.close()


# --- 9: a damaged arm.db is refused -------------------------------------------------------------------

def _truncated(path):
    store = Store(path)
    for i in range(300):
        store.put(f"/subscriptions/s/resourcegroups/g{i}", _big(i))
    store.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(b""),
    lambda p: p.write_bytes(b"this is not a database" * 300),
    lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000),
    _foreign,
    _truncated,
], ids=["empty", "garbage", "bad-header", "foreign", "truncated"])
def test_damaged_database_is_refused_naming_the_file(tmp_path, damage):
    db = tmp_path / "arm.db"
    damage(db)
    with pytest.raises(StoreCorrupt) as info:
        Store(db)
    assert info.value.path == str(db) and str(db) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_fresh_and_a_reopened_database_are_accepted(tmp_path):
    db = tmp_path / "arm.db"
    Store(db).close()
    store = Store(db)
    store.put("/x", {"a": 1})
    store.close()
    assert Store(db).get_obj("/x") == {"a": 1}


# --- 10: bodies of the wrong shape or depth --------------------------------------------------------------

def _nested(depth: int) -> bytes:
    """A PUT body whose deepest value sits ``depth`` objects down (the body itself is level 1)."""
    return b'{"location": "westeurope", "properties": {"x": ' + b'{"a": ' * (depth - 2) + b"1" + b"}" * (depth - 2) + b"}}"


def test_deep_json_is_refused_everywhere(drv):
    for depth in (MAX_DEPTH + 1, 1000, 100_000):
        status, doc = drv.call("PUT", f"{PLS}/deep", _nested(depth), HV)
        assert (status, doc["error"]["code"]) == (400, "InvalidRequestContent"), (depth, doc)
        assert f"nested deeper than {MAX_DEPTH} levels" in doc["error"]["message"]
        for path in ("/_arclink/sites/s1", "/_arclink/state"):
            status, doc = drv.call("PUT", path, _nested(depth))
            assert (status, doc["error"]["code"]) == (400, "InvalidRequestContent"), (path, depth, doc)
    status, doc = drv.call("PUT", f"{PLS}/deep", _nested(MAX_DEPTH), HV)
    assert status == 201, doc


@pytest.mark.parametrize("props", [[1], "x", 5, True, 1.5])
def test_patch_with_properties_not_an_object(drv, props):
    assert drv.call("PUT", f"{PLS}/pls", {"location": "westeurope"}, HV)[0] == 201
    status, doc = drv.call("PATCH", f"{PLS}/pls", {"properties": props}, HV)
    assert (status, doc["error"]["code"]) == (400, "InvalidRequestContent"), doc


@pytest.mark.parametrize("name", [5, None, [], {}, True])
def test_control_body_name_must_be_a_string(drv, name):
    status, doc = drv.call("PUT", "/_arclink/sites/s1", {"name": name, "addressSpace": ["192.0.2.0/24"]})
    assert 400 <= status < 500 and doc["error"]["code"], doc


def _vnets(drv):
    for name, prefix in (("vnet", "10.0.0.0/16"), ("v2", "10.1.0.0/16")):
        status, doc = drv.call("PUT", f"{NET}/virtualNetworks/{name}", {
            "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": [prefix]}}}, NV)
        assert status == 201, doc


@pytest.mark.parametrize("rid", [5, None, [], {}, True, ""])
def test_peering_remote_id_not_a_string(drv, rid):
    _vnets(drv)
    status, doc = drv.call("PUT", f"{NET}/virtualNetworks/vnet/virtualNetworkPeerings/p",
                           {"properties": {"remoteVirtualNetwork": {"id": rid}}}, NV)
    assert 400 <= status < 500 and doc["error"]["code"], doc
    status, doc = drv.call("PUT", f"{NET}/virtualNetworks/v3", {"location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
        "virtualNetworkPeerings": [{"name": "p", "properties": {"remoteVirtualNetwork": {"id": rid}}}]}}, NV)
    assert status < 500, doc


# --- 11: writes Azure refuses -------------------------------------------------------------------------

@pytest.mark.parametrize("path,version", [
    (f"{PLS}/p\n", HV), (f"{RG}2\n", RV), (f"{NET}/virtualNetworks/v\n", NV),
    (f"{NET}/privateDnsZones/z.example\n", DV)])
def test_names_ending_in_a_newline_are_refused(drv, path, version):
    status, doc = drv.call("PUT", path, {"location": "global" if "privateDns" in path else "westeurope"}, version)
    assert status == 400 and doc["error"]["code"] in ("InvalidResourceName", "InvalidResourceGroupName"), doc


def test_inline_subnet_name_ending_in_a_newline_is_refused(drv):
    status, doc = drv.call("PUT", f"{NET}/virtualNetworks/v", {"location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [{"name": "s\n", "properties": {"addressPrefix": "10.0.1.0/24"}}]}}, NV)
    assert status == 400, doc


@pytest.fixture
def zone(drv):
    status, doc = drv.call("PUT", ZONE, {"location": "global"}, DV)
    assert status == 201, doc
    return drv


def _record(kind: str, name: str, props: dict) -> tuple[str, dict]:
    return f"{ZONE}/{kind}/{name}", {"properties": {"ttl": 60, **props}}


def test_cname_stands_alone(zone):
    d = zone
    assert d.call("PUT", *_record("A", "www", {"aRecords": [{"ipv4Address": "10.0.0.4"}]}), DV)[0] == 201
    assert d.call("PUT", *_record("TXT", "mail", {"txtRecords": [{"value": ["v"]}]}), DV)[0] == 201
    for name in ("www", "mail", "@"):
        status, doc = d.call("PUT", *_record("CNAME", name, {"cnameRecord": {"cname": "elsewhere.example.com"}}), DV)
        assert (status, doc["error"]["code"]) == (409, "Conflict"), (name, doc)
        assert d.call("GET", f"{ZONE}/CNAME/{name}", version=DV)[0] == 404
    assert d.call("PUT", *_record("CNAME", "alias", {"cnameRecord": {"cname": "www.example.com"}}), DV)[0] == 201
    # updating the CNAME itself is fine; another type beside it is not
    assert d.call("PUT", *_record("CNAME", "alias", {"cnameRecord": {"cname": "web.example.com"}}), DV)[0] == 200
    for kind, props in (("A", {"aRecords": [{"ipv4Address": "10.0.0.5"}]}), ("TXT", {"txtRecords": [{"value": ["x"]}]}),
                        ("MX", {"mxRecords": [{"preference": 10, "exchange": "m.example.com"}]})):
        status, doc = d.call("PUT", *_record(kind, "alias", props), DV)
        assert (status, doc["error"]["code"]) == (409, "Conflict"), (kind, doc)


@pytest.mark.parametrize("target", ["gbl.privatelink.his.arc.azure.com", "GBL.privatelink.his.arc.azure.com."])
def test_cname_to_itself_is_refused(zone, target):
    status, doc = zone.call("PUT", *_record("CNAME", "gbl", {"cnameRecord": {"cname": target}}), DV)
    assert (status, doc["error"]["code"]) == (400, "BadRequest"), doc
    assert zone.call("GET", f"{ZONE}/CNAME/gbl", version=DV)[0] == 404


RANGES = [
    ("MX", "mxRecords", {"preference": 10, "exchange": "m.example.com"}, "preference", (0, 65535)),
    ("SRV", "srvRecords", {"priority": 1, "weight": 1, "port": 443, "target": "t.example.com"}, "priority", (0, 65535)),
    ("SRV", "srvRecords", {"priority": 1, "weight": 1, "port": 443, "target": "t.example.com"}, "weight", (0, 65535)),
    ("SRV", "srvRecords", {"priority": 1, "weight": 1, "port": 443, "target": "t.example.com"}, "port", (0, 65535)),
]


@pytest.mark.parametrize("kind,key,record,field,bounds", RANGES)
def test_record_fields_in_range(zone, kind, key, record, field, bounds):
    lo, hi = bounds
    for value in (lo, hi):
        status, doc = zone.call("PUT", *_record(kind, "r", {key: [{**record, field: value}]}), DV)
        assert status in (200, 201), doc
    for value in (lo - 1, hi + 1):
        status, doc = zone.call("PUT", *_record(kind, "r", {key: [{**record, field: value}]}), DV)
        assert (status, doc["error"]["code"]) == (400, "BadRequest"), doc
        assert doc["error"]["target"] == f"properties.{key}[0].{field}"
    for value in ("10", 1.5, True, [], {}):
        status, doc = zone.call("PUT", *_record(kind, "r", {key: [{**record, field: value}]}), DV)
        assert (status, doc["error"]["code"]) == (400, "InvalidRequestContent"), doc


def test_txt_strings_hold_255_bytes(zone):
    assert zone.call("PUT", *_record("TXT", "t", {"txtRecords": [{"value": ["a" * 255, "b"]}]}), DV)[0] == 201
    for value in ("a" * 256, "é" * 128):
        status, doc = zone.call("PUT", *_record("TXT", "t", {"txtRecords": [{"value": ["ok", value]}]}), DV)
        assert (status, doc["error"]["code"]) == (400, "BadRequest"), doc
        assert doc["error"]["target"] == "properties.txtRecords[0].value[1]"
    status, doc = zone.call("PUT", *_record("TXT", "t", {"txtRecords": [{"value": [5]}]}), DV)
    assert (status, doc["error"]["code"]) == (400, "InvalidRequestContent"), doc


def test_ttl_out_of_range(zone):
    for ttl in (-1, 2**31):
        status, doc = zone.call("PUT", *_record("A", "a", {"ttl": ttl, "aRecords": [{"ipv4Address": "10.0.0.4"}]}), DV)
        assert (status, doc["error"]["code"]) == (400, "BadRequest"), doc


WRONG = (None, 5, -1, 70000, 1.5, "x", "", True, [], [1], ["x"], {}, {"a": 1})


def test_record_bodies_of_every_wrong_type_get_a_4xx(zone):
    """Every value of each record kind's body replaced by every other JSON type: a 4xx or a success, never a 5xx;
    PATCH too. The live model still builds after it."""
    templates = [
        ("MX", {"properties": {"ttl": 60, "metadata": {"k": "v"},
                               "mxRecords": [{"preference": 10, "exchange": "m.example.com"}]}}),
        ("SRV", {"properties": {"srvRecords": [{"priority": 1, "weight": 2, "port": 3, "target": "t.example.com"}]}}),
        ("TXT", {"properties": {"txtRecords": [{"value": ["a", "b"]}]}}),
        ("PTR", {"properties": {"ptrRecords": [{"ptrdname": "p.example.com"}]}}),
        ("AAAA", {"properties": {"aaaaRecords": [{"ipv6Address": "fd00::4"}]}}),
        ("CNAME", {"properties": {"cnameRecord": {"cname": "c.example.com"}}}),
    ]
    failures = []
    for kind, body in templates:
        path = f"{ZONE}/{kind}/r{kind.lower()}"
        assert zone.call("PUT", path, body, DV)[0] in (200, 201)
        for p in json_paths(body):
            for wrong in WRONG:
                for method in ("PUT", "PATCH"):
                    status, doc = zone.call(method, path, json_replace(body, p, wrong), DV)
                    if status >= 500 or (status >= 400 and not (doc or {}).get("error", {}).get("code")):
                        failures.append(f"{method} {kind} {'.'.join(map(str, p))}={wrong!r}: {status} {doc}")
    zone.live.refresh()
    assert zone.live._built == zone.store.generation
    assert not failures, "\n".join(failures[:30])


def test_serve_refuses_a_damaged_database_and_reset_starts_afresh(tmp_path):
    from arclink.stack import StackError, start_services

    state = tmp_path / "state"
    state.mkdir()
    (state / "arm.db").write_bytes(b"")
    with pytest.raises(StackError) as info:
        start_services(state)
    assert info.value.code == 2
    message = str(info.value)
    assert str(state / "arm.db") in message and "--reset" in message and "\n" not in message
    assert (state / "arm.db").read_bytes() == b""  # nothing was overwritten
    svc = start_services(state, reset=True)
    try:
        assert svc.endpoints["token"] and len(svc.store) == 0
    finally:
        svc.stop()
