"""A gateway admission after a network write is decided without waiting for the whole model's rebuild,
and decides as a fresh rebuild would.

Random sequences of network writes through ARM (records, zone groups, endpoint approvals and
rejections, a scope's publicNetworkAccess, zone links, a scope a cluster names coming and going),
sites through the control API, and cluster writes and deletes; after each, for every agent key
(and one nobody has) the live model's ``admission()`` is compared with the cluster and ``reach()``
of ``index_from_resources`` over the same store, for every private endpoint address and the public
Arc endpoint. The worker never rebuilds on its own (a debounce of an hour), so after a network
write the rebuild count says the admission did not wait for a rebuild.
"""

from __future__ import annotations

import base64
import threading

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arclink.arm.app import create_app
from arclink.arm.config import ArmConfig
from arclink.arm.live import StoreLiveState
from arclink.arm.model_view import onprem_of
from arclink.model import catalogue as cat
from arclink.model.arm_codec import index_from_resources
from arclink.model.index import ClusterR, Index
from arclink.model.reach import reach
from arclink.model.resolved import AGENT_KEYS

from .test_incremental_live import CLUSTERS, KEYS, NAMES, SCOPES, STATES, ZONES, Emulator, apply

PUBLIC = ("20.152.187.74", "gbl.his.arc.azure.com")  # the public Hybrid Identity Service endpoint
NOBODY = b"a key no cluster has"
NETWORK_OPS = {"record", "drop-record", "approval", "drop-zone-group", "public-access", "link", "other-scope"}

OPS = st.one_of(
    st.tuples(st.just("cluster"), NAMES, st.integers(0, 3), st.sampled_from([None, "inside", "outside"]),
              st.sampled_from([None, "scope", "missing-scope"]), st.booleans(), st.just(()), KEYS),
    st.tuples(st.just("delete"), NAMES),
    st.tuples(st.just("record"), st.sampled_from(["extra", "gbl"]), st.sampled_from(["10.10.3.9", "10.10.3.10"])),
    st.tuples(st.just("drop-record"), st.sampled_from(["extra", "gbl"])),
    st.tuples(st.just("approval"), STATES),
    st.tuples(st.just("drop-zone-group")),
    st.tuples(st.just("public-access"), st.sampled_from(["Enabled", "Disabled"])),
    st.tuples(st.just("link"), st.booleans()),
    st.tuples(st.just("other-scope"), st.booleans()),
    st.tuples(st.just("site"), st.integers(0, 2), st.sampled_from(["arc", "closed", "gone"])),
)


def write(emu: Emulator, op: tuple) -> None:
    kind = op[0]
    if kind == "public-access":
        scope = emu.store.get_obj(emu.scope_id)
        emu.call("PUT", emu.scope_id, SCOPES, {"location": scope["location"],
                                                "properties": {"publicNetworkAccess": op[1]}})
    elif kind == "link":  # the Hybrid Identity Service zone's link to the hub
        link = f"{emu.zone.id}/virtualNetworkLinks/link-vnet-hub"
        if op[1]:
            vnet = next(k for k in emu.store.bodies if k.endswith("/virtualnetworks/vnet-hub"))
            emu.call("PUT", link, ZONES, {"location": "global", "properties": {
                "virtualNetwork": {"id": emu.store.get_obj(vnet)["id"]}, "registrationEnabled": False}})
        else:
            emu.call("DELETE", link, ZONES)
    elif kind == "other-scope":  # the scope the "missing-scope" clusters name: created, and deleted again
        if op[1]:
            emu.call("PUT", emu.scope_id + "-gone", SCOPES, {"location": "westeurope",
                                                              "properties": {"publicNetworkAccess": "Enabled"}})
        else:
            emu.call("DELETE", emu.scope_id + "-gone", SCOPES)
    elif kind == "site":
        name = emu.sites[op[1] % len(emu.sites)]
        if op[2] == "gone":
            emu.call("DELETE", f"/_arclink/sites/{name}", CLUSTERS)
            return
        site = dict(onprem_of(emu.store)["sites"].get(name.lower()) or {"name": name, "addressSpace": ["192.168.99.0/24"]})
        outbound = [t for t in (site.get("firewall") or {}).get("outbound") or [] if t != cat.TAG_ARC]
        site["firewall"] = {"outbound": outbound + ([cat.TAG_ARC] if op[2] == "arc" else [])}
        emu.call("PUT", f"/_arclink/sites/{name}", CLUSTERS, site)
    else:
        apply(emu, op)


def fresh(emu: Emulator) -> Index:
    return index_from_resources(emu.store.model_objects(), onprem_of(emu.store))


def shape(c: ClusterR | None) -> tuple | None:
    """What the gateway and reach() read of a cluster."""
    if c is None:
        return None
    return (c.id, c.path, c.address, c.location, c.qualifier, c.site.name if c.site else None,
            c.scope.id if c.scope else None, msgspec.to_builtins(c.spec))


def ders(*indexes: Index) -> list[bytes]:
    keys = {base64.b64decode(k) for k in ("QUFBQQ==", "QkJCQg==", "Q0NDQw==", "RERERA==")} | {NOBODY}
    for ix in indexes:
        keys |= {der for der, _ in ix.memo(AGENT_KEYS, ix._agent_keys).items()}
    return sorted(keys)


def check_admissions(live: StoreLiveState, ref: Index, why: object) -> tuple[int, int]:
    """Every key's admission against ``ref``'s, at every endpoint; (how many were decided ahead of the
    whole model, how many were asked)."""
    targets = [(a, rec.record.fqdn) for a, (_, rec) in sorted(ref._endpoints_by_address.items())] + [PUBLIC]
    ahead, keys = 0, ders(ref, live._current[2])
    for der in keys:
        version, ix, cluster = live.admission(der)
        want = ref.cluster_for_agent_key(der)
        assert shape(cluster) == shape(want), (why, der)
        ahead += ix is not live._current[2]
        for address, fqdn in targets:
            got, expected = reach(ix, cluster, address, fqdn), reach(ref, want, address, fqdn)
            assert got.to_dict() == expected.to_dict(), (why, der, address)
    return ahead, len(keys)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=1, max_size=8))
def test_admissions_ahead_of_the_rebuild_decide_as_a_rebuild(ops):
    emu = Emulator()
    try:
        for op in ops:
            write(emu, op)
            rebuilds = emu.live.rebuilds
            ahead, asked = check_admissions(emu.live, fresh(emu), op)
            if op[0] in NETWORK_OPS:  # decided without a rebuild: ahead of it, or nothing changed
                assert emu.live.rebuilds == rebuilds, op
                if emu.live._current[3] is not None:  # a names-only index ahead of the whole model: every
                    assert ahead == asked, op  # admission was decided from it
    finally:
        emu.live.close()


def admit(live: StoreLiveState, der: bytes, address: str, fqdn: str | None) -> tuple[str, Index]:
    _, ix, cluster = live.admission(der)
    return reach(ix, cluster, address, fqdn).code, ix


def test_a_network_write_is_admitted_from_ahead_and_a_cluster_write_after_it_is_seen():
    emu = Emulator()
    try:
        arc = next((a, rec.record.fqdn) for a, (pe, rec) in emu.live.index._endpoints_by_address.items() if pe.is_arc)
        apply(emu, ("cluster", "c1", 1, None, "scope", True, (), "QUFBQQ=="))
        assert admit(emu.live, b"AAAA", *arc)[0] == "Admitted"
        rebuilds, whole = emu.live.rebuilds, emu.live._current[2]
        apply(emu, ("approval", "Rejected"))
        code, ix = admit(emu.live, b"AAAA", *arc)
        assert code == "PrivateEndpointConnectionNotApproved"
        assert emu.live.rebuilds == rebuilds and emu.live._current[2] is whole and ix is not whole  # ahead
        # a cluster written after the network write: the whole model takes both in before answering
        apply(emu, ("cluster", "c2", 2, None, "scope", True, (), "QkJCQg=="))
        code, ix = admit(emu.live, b"BBBB", *arc)
        assert code == "PrivateEndpointConnectionNotApproved" and ix is emu.live._current[2]
        assert emu.live.rebuilds == rebuilds + 1
        # the scope a cluster names is deleted (ARM keeps the reference), then comes back
        write(emu, ("other-scope", True))
        apply(emu, ("cluster", "c3", 0, None, "missing-scope", True, (), "Q0NDQw=="))  # no site: no firewall
        apply(emu, ("cluster", "edge-7", 0, None, "scope", True, (), "RERERA=="))
        other = emu.scope_id.lower() + "-gone"
        _, ix, cluster = emu.live.admission(b"CCCC")
        assert cluster is not None and cluster.scope is ix.scopes[other]
        rebuilds = emu.live.rebuilds
        write(emu, ("other-scope", False))
        _, ix, cluster = emu.live.admission(b"CCCC")
        assert cluster is not None and cluster.scope is None and other not in ix.scopes
        assert cluster.spec.private_link_scope_resource_id is None  # dropped as dangling, as a rebuild does
        assert reach(ix, cluster, *PUBLIC).scope is None and emu.live.rebuilds == rebuilds
        write(emu, ("other-scope", True))
        _, ix, cluster = emu.live.admission(b"CCCC")
        assert cluster is not None and cluster.scope is ix.scopes[other] and ix is not emu.live._current[2]
        assert reach(ix, cluster, *PUBLIC).scope == "pls-arc-retail-gone" and emu.live.rebuilds == rebuilds
        assert admit(emu.live, b"DDDD", *PUBLIC)[0] == "PublicNetworkAccessDisabled"
        write(emu, ("public-access", "Enabled"))
        assert admit(emu.live, b"DDDD", *PUBLIC)[0] == "Admitted" and emu.live.rebuilds == rebuilds
        check_admissions(emu.live, fresh(emu), "after all")
    finally:
        emu.live.close()


def test_a_large_estate_admits_after_a_network_write_without_the_rebuild():
    emu = Emulator()
    emu.live.close()
    store = emu.store
    for i in range(5000):  # written straight into the store: the estate, not the measurement
        key = emu.cluster_path(f"fleet-{i}")
        store.put(key, {"id": key, "name": f"fleet-{i}", "type": "Microsoft.Kubernetes/connectedClusters",
                        "location": "westeurope", "tags": {"arclink-site": emu.sites[0]},
                        "properties": {"agentPublicKeyCertificate": base64.b64encode(f"key-{i}".encode()).decode(),
                                       "privateLinkState": "Enabled", "privateLinkScopeResourceId": emu.scope_id}})
    emu.live = StoreLiveState(store, debounce=3600)
    try:
        emu.live.refresh()
        emu.app = create_app(store, emu.live, ArmConfig(token="t", subscription=emu.sub, tenant="tenant"))
        arc = next((a, rec.record.fqdn) for a, (pe, rec) in emu.live.index._endpoints_by_address.items() if pe.is_arc)
        assert admit(emu.live, b"key-4321", *arc)[0] == "Admitted"
        rebuilds = emu.live.rebuilds
        apply(emu, ("approval", "Rejected"))
        code, ix = admit(emu.live, b"key-4321", *arc)
        assert code == "PrivateEndpointConnectionNotApproved" and emu.live.rebuilds == rebuilds
        assert len(ix.clusters) == 0 and len(emu.live._current[2].clusters) > 5000  # the names-only index
        ref = fresh(emu)
        want = reach(ref, ref.cluster_for_agent_key(b"key-4321"), *arc)
        _, ix, cluster = emu.live.admission(b"key-4321")
        assert reach(ix, cluster, *arc).to_dict() == want.to_dict()
        assert emu.live.rebuilds == rebuilds
    finally:
        emu.live.close()


def test_an_admission_during_a_rebuild_answers_from_the_rebuilt_version():
    """A rebuild in progress has taken the writes in: an admission meanwhile waits for it rather than
    answering from the version it replaces (which still has a deleted cluster)."""
    emu = Emulator()
    try:
        apply(emu, ("cluster", "c1", 1, None, "scope", True, (), "QUFBQQ=="))
        assert emu.live.admission(b"AAAA")[2] is not None
        started, go = threading.Event(), threading.Event()
        build = emu.live._build

        def held() -> Index:
            started.set()
            go.wait()
            return build()

        emu.live._build = held  # type: ignore[method-assign]
        apply(emu, ("delete", "c1"))  # only a rebuild takes a deleted cluster in
        rebuild = threading.Thread(target=emu.live.refresh)
        rebuild.start()
        assert started.wait(60)
        answers: list = []
        reader = threading.Thread(target=lambda: answers.append(emu.live.admission(b"AAAA")))
        reader.start()
        go.set()
        rebuild.join()
        reader.join()
        assert answers[0][2] is None and answers[0][1] is emu.live._current[2]
    finally:
        emu.live.close()
