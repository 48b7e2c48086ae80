"""The live model kept up to date by patches equals the model rebuilt from scratch, after every write.

Random sequences of ARM writes and deletes go through the emulator's app (in process, the
same ASGI app ``serve`` runs); after each, the live index is compared with
``index_from_resources`` over the same store: the same resources and topology, the same
cluster lists per site and scope, the same resolution of every Arc name for every site,
the same reach from every cluster to every private endpoint address, and the same lint
findings.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arclink.arm.app import create_app
from arclink.arm.config import ArmConfig
from arclink.arm.live import StoreLiveState
from arclink.arm.model_view import onprem_of
from arclink.arm.seed import seed_topology
from arclink.arm.store import Store
from arclink.model import loader, rules
from arclink.model.arm_codec import index_from_resources
from arclink.model.index import Index
from arclink.model.reach import reach
from arclink.model.resolved import AGENT_KEYS
from arclink.model.trace import agent_names, site_resolution

from .arm_fixtures import asgi_call

GOOD = Path(__file__).resolve().parents[2] / "examples" / "good.yaml"
CLUSTERS = "2024-07-15-preview"
EXTENSIONS = "2023-05-01"
ZONES = "2024-06-01"
SCOPES = "2024-07-10"
NETWORK = "2024-05-01"


class Emulator:
    """The ARM app over an in-memory store seeded with examples/good.yaml, called without a socket."""

    def __init__(self) -> None:
        self.store = Store()
        seed_topology(self.store, loader.load(GOOD).topology)
        self.sub = self.store.meta.get("subscription") or next(iter(self._subs()))
        # a worker that never wakes on its own: every update is the reader's, so the path taken is known
        self.live = StoreLiveState(self.store, debounce=3600)
        self.live.refresh()
        self.app = create_app(self.store, self.live, ArmConfig(token="t", subscription=self.sub, tenant="tenant"))
        ix = self.live.index
        self.scope_id = next(iter(ix.scopes.values())).id
        self.sites = [s.name for s in ix.sites.values()]
        self.rg = next(iter(ix.clusters.values())).resource_group
        self.zone = next(z for z in ix.zones.values() if z.zone_name.startswith("privatelink.his"))

    def _subs(self) -> set[str]:
        return {k.split("/")[2] for k in self.store.bodies if k.startswith("/subscriptions/")}

    def call(self, method: str, path: str, api: str, body: dict | None = None) -> int:
        loop = asyncio.new_event_loop()
        try:
            status, _, answer = asgi_call(loop, self.app, method, path, json.dumps(body).encode() if body is not None
                                          else b"", f"api-version={api}", [(b"authorization", b"Bearer t"),
                                                                            (b"content-type", b"application/json")])
        finally:
            loop.close()
        assert status < 500, answer
        return status

    def cluster_path(self, name: str) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{self.rg}/providers/Microsoft.Kubernetes/connectedClusters/{name}"


def describe_names(ix: Index, locations: list[str]) -> dict:
    """What DNS answers depend on: zones and their records, endpoints' addresses, and the resolution
    of every Arc name of ``locations`` from every site and from Azure."""
    return {
        "zones": {z.id: sorted((k, r.addresses, r.cname, r.source) for k, r in z.records.items())
                  for z in ix.zones.values()},
        "endpoints": sorted((a, pe.id, pe.state, rec.record.fqdn) for a, (pe, rec) in ix._endpoints_by_address.items()),
        "resolutions": {(s.name if s else None, name): (lambda r: (r.rcode, r.answers, r.source))(
                            site_resolution(ix, s, name))
                        for s in [None, *ix.sites.values()] for loc in locations for name in agent_names(loc)},
    }


def describe(ix: Index) -> dict:
    """What two indexes must agree on to be the same model."""
    endpoints = sorted(ix._endpoints_by_address.items())
    locations = sorted({c.location for c in ix.clusters.values()} | {"westeurope"})
    return {
        "topology": msgspec.to_builtins(ix.topology),
        "subscriptions": sorted(ix.subscriptions),
        "tables": {name: [(k, r.name, r.path, getattr(r, "qualifier", "")) for k, r in getattr(ix, name).items()]
                   for name in ("vnets", "nsgs", "scopes", "endpoints", "zones", "clusters")},
        "clusters": [(c.id, c.path, c.address, c.site.name if c.site else None, c.scope.id if c.scope else None,
                      msgspec.to_builtins(c.spec)) for c in ix.clusters.values()],
        "names": {c.name.lower(): [n.id for n in ix.clusters.named(c.name)] for c in ix.clusters.values()},
        "shared_names": [[c.id for c in rs] for rs in ix.clusters.shared_names()],
        "site_clusters": {s.name: [c.id for c in ix.clusters_in(s)] for s in ix.sites.values()},
        "scope_clusters": {s.id: [c.id for c in ix.clusters_in(s)] for s in ix.scopes.values()},
        "zones": {z.id: sorted((k, r.addresses, r.cname, r.source) for k, r in z.records.items())
                  for z in ix.zones.values()},
        "resolutions": {(s.name if s else None, name): (lambda r: (r.rcode, r.answers, r.source))(
                            site_resolution(ix, s, name))
                        for s in [None, *ix.sites.values()] for loc in locations for name in agent_names(loc)},
        "reach": {(c.id, address): reach(ix, c, address, rec.record.fqdn).to_dict()
                  for c in ix.clusters.values() for address, (_, rec) in endpoints},
        "lint": [f.to_dict() for f in rules.run(ix)],
        "agent_keys": sorted((der, c.id) for der, c in ix.memo(AGENT_KEYS, ix._agent_keys).items()),
    }


def fresh(emu: Emulator) -> Index:
    return index_from_resources(emu.store.model_objects(), onprem_of(emu.store))


STATES = st.sampled_from(["Approved", "Rejected", "Pending"])
NAMES = st.sampled_from(["c1", "c2", "c3", "edge-7"])
# agent keys: base64 of a few bytes (shared by some clusters, unique to others) and one that is not base64
KEYS = st.sampled_from(["QUFBQQ==", "QkJCQg==", "Q0NDQw==", "RERERA==", "not base64!"])
OPS = st.one_of(
    st.tuples(st.just("cluster"), NAMES, st.integers(0, 3), st.sampled_from([None, "inside", "outside"]),
              st.sampled_from([None, "scope", "missing-scope"]), st.booleans(), st.sampled_from([(), ("cluster-connect",)]),
              KEYS),
    st.tuples(st.just("extension"), NAMES, st.sampled_from(["microsoft.flux", "microsoft.azuremonitor.containers"])),
    st.tuples(st.just("drop-extension"), NAMES, st.sampled_from(["microsoft.flux", "microsoft.azuremonitor.containers"])),
    st.tuples(st.just("delete"), NAMES),
    st.tuples(st.just("record"), st.sampled_from(["extra", "other"]), st.sampled_from(["10.10.3.9", "10.10.3.10"])),
    st.tuples(st.just("drop-record"), st.sampled_from(["extra", "other"])),
    st.tuples(st.just("approval"), STATES),
    st.tuples(st.just("drop-zone-group")),
)


def apply(emu: Emulator, op: tuple) -> None:
    kind = op[0]
    if kind == "cluster":
        _, name, site_pick, address, scope, enabled, features, key = op
        sites = emu.sites + ["no-such-site"]
        site = None if site_pick == 0 else sites[(site_pick - 1) % len(sites)]
        tags = {}
        if site:
            tags["arclink-site"] = site
        if address == "inside":
            tags["arclink-address"] = "192.168.10.77"
        elif address == "outside":
            tags["arclink-address"] = "172.31.0.7"
        props: dict = {"agentPublicKeyCertificate": key,
                       "privateLinkState": "Enabled" if enabled and scope else "Disabled"}
        if scope == "scope":
            props["privateLinkScopeResourceId"] = emu.scope_id
        elif scope == "missing-scope":
            props["privateLinkScopeResourceId"] = emu.scope_id + "-gone"
        if features:
            props["arcAgentryConfigurations"] = [{"feature": f, "settings": {}} for f in features]
        emu.call("PUT", emu.cluster_path(name), CLUSTERS, {"location": "westeurope", "tags": tags,
                                                            "identity": {"type": "SystemAssigned"}, "properties": props})
    elif kind in ("extension", "drop-extension"):
        _, name, ext = op
        path = f"{emu.cluster_path(name)}/providers/Microsoft.KubernetesConfiguration/extensions/{ext.split('.', 1)[1].replace('.', '-')}"
        if kind == "extension":
            emu.call("PUT", path, EXTENSIONS, {"properties": {"extensionType": ext}})
        else:
            emu.call("DELETE", path, EXTENSIONS)
    elif kind == "delete":
        emu.call("DELETE", emu.cluster_path(op[1]), CLUSTERS)
    elif kind == "record":
        emu.call("PUT", f"{emu.zone.id}/A/{op[1]}", ZONES, {"properties": {"ttl": 60, "aRecords": [{"ipv4Address": op[2]}]}})
    elif kind == "drop-record":
        emu.call("DELETE", f"{emu.zone.id}/A/{op[1]}", ZONES)
    elif kind == "approval":  # the scope owner approves or rejects the Arc endpoint's connection
        key = next(k for k in emu.store.bodies if "hybridcompute/privatelinkscopes/" in k and "privateendpointconnections/" in k)
        emu.call("PUT", emu.store.get_obj(key)["id"], SCOPES,
                 {"properties": {"privateLinkServiceConnectionState": {"status": op[1], "description": op[1]}}})
    else:  # the Arc endpoint's zone group, and with it the A records it wrote
        key = next((k for k in emu.store.bodies if "/privatednszonegroups/" in k and "pe-arc" in k), None)
        if key is not None:
            emu.call("DELETE", emu.store.get_obj(key)["id"], NETWORK)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=1, max_size=8))
def test_patched_model_equals_a_rebuild_after_every_write(ops):
    emu = Emulator()
    try:
        held, seen = emu.live.index, describe(emu.live.index)
        for op in ops:
            apply(emu, op)
            # what the DNS server answers from comes first: a names-only index ahead of the whole model
            locations = sorted({c.location for c in held.clusters.values()} | {"westeurope"})
            assert describe_names(emu.live.snapshot_names()[1], locations) == describe_names(fresh(emu), locations), op
            now = describe(emu.live.index)
            assert now == describe(fresh(emu)), op
            # a reader holding the version before this write still sees that version, whole
            assert describe(held) == seen, op
            held, seen = emu.live.index, now
    finally:
        emu.live.close()


def reachable(ix: Index) -> dict:
    """What a reader holding ``ix`` can reach of its clusters, sites and scopes, object by object."""
    holders = [*ix.sites.values(), *ix.scopes.values()]
    return {
        "own_lists": [(id(h), list(ix._clusters_of.get(id(h), []))) for h in holders],  # the rebuild's lists
        "table": list(ix.clusters.items()),
        "version_lists": [(id(h), list(ix.clusters_in(h))) for h in holders],
        "clusters": [(id(c), dict(vars(c))) for c in ix.clusters.values()],
        "names": {c.name: list(ix.clusters.named(c.name)) for c in ix.clusters.values()},
        "topology": list(ix.topology.clusters),
        "agent_keys": dict(ix.memo(AGENT_KEYS, ix._agent_keys).items()),
        "counts": dict(ix._auto_counts),
    }


def test_a_held_version_is_untouched_by_later_cluster_writes():
    emu = Emulator()
    try:
        apply(emu, ("cluster", "c1", 1, None, "scope", True, (), "QUFBQQ=="))  # a patched version, then held
        held = emu.live.index
        before, seen = reachable(held), describe(held)
        apply(emu, ("cluster", "c2", 1, None, "scope", True, (), "QkJCQg=="))  # joins the held site and scope
        apply(emu, ("cluster", "c1", 1, "inside", None, False, (), "Q0NDQw=="))  # leaves the scope, changes key
        apply(emu, ("extension", "c2", "microsoft.flux"))
        assert emu.live.index is not held and emu.live.names_version == emu.live.snapshot_names()[0]
        site = held.clusters[emu.cluster_path("c1").lower()].site
        assert [c.name for c in held.clusters_in(site)][-1:] == ["c1"]  # c2 is not in the held version's site
        assert reachable(held) == before
        assert describe(held) == seen
        assert describe(emu.live.index) == describe(fresh(emu))
    finally:
        emu.live.close()


def test_cluster_writes_take_the_patch_and_keep_dns_answers():
    emu = Emulator()
    try:
        names, version = emu.live.names_version, emu.live.version
        before = emu.live.index
        assert before.cluster_for_agent_key(b"AAAA") is None  # makes the key table, which patches carry over
        apply(emu, ("cluster", "c9", 1, None, "scope", True, (), "QUFBQQ=="))
        apply(emu, ("extension", "c9", "microsoft.flux"))
        after = emu.live.index
        assert emu.live.version > version and emu.live.names_version == names  # a patch, not a rebuild
        assert after.vnets is before.vnets and after.zones is before.zones  # the network is shared, not rebuilt
        assert "c9" not in [c.name for c in before.clusters.values()]  # the old version is untouched
        assert after.clusters[emu.cluster_path("c9").lower()].spec.extensions == ["microsoft.flux"]
        assert AGENT_KEYS in after._memo and after.cluster_for_agent_key(b"AAAA").name == "c9"
        assert describe(after) == describe(fresh(emu))
        # two clusters whose addresses the model fills in, one after the other in their site
        apply(emu, ("cluster", "c1", 1, None, None, False, (), "QkJCQg=="))
        apply(emu, ("cluster", "c2", 1, None, "scope", True, (), "Q0NDQw=="))
        apply(emu, ("cluster", "c1", 1, None, "scope", True, ("cluster-connect",), "RERERA=="))  # changed in place
        assert emu.live.names_version == names
        assert describe(emu.live.index) == describe(fresh(emu))
        apply(emu, ("record", "extra", "10.10.3.9"))
        assert emu.live.names_version > names  # a zone write changes what names resolve to
        assert describe(emu.live.index) == describe(fresh(emu))
    finally:
        emu.live.close()


def test_a_lineage_started_over_reads_the_same(monkeypatch):
    from arclink.model import versioned

    monkeypatch.setattr(versioned, "SLACK", 0)  # every few writes, the last version's tables become the base
    emu = Emulator()
    try:
        assert emu.live.index.cluster_for_agent_key(b"AAAA") is None
        held, seen = emu.live.index, None
        for op in [("cluster", "c1", 1, None, "scope", True, (), "QUFBQQ=="),
                                ("cluster", "c2", 2, None, "scope", True, (), "QkJCQg=="),
                                ("extension", "c1", "microsoft.flux"),
                                ("cluster", "c1", 1, None, None, False, (), "Q0NDQw=="),
                                ("cluster", "c3", 0, None, "scope", True, (), "RERERA==")]:
            apply(emu, op)
            assert describe(emu.live.index) == describe(fresh(emu)), op
            if seen is not None:
                assert describe(held) == seen, op
            held, seen = emu.live.index, describe(emu.live.index)
        assert emu.live.index.cluster_for_agent_key(b"DDDD").name == "c3"
        assert emu.live.index.clusters.lineage.seq < 5  # started over at least once
    finally:
        emu.live.close()


def test_names_run_ahead_of_the_whole_model():
    emu = Emulator()
    try:
        version, whole = emu.live.snapshot()
        names = emu.live.names_version
        apply(emu, ("record", "extra", "10.10.3.9"))
        ahead, ix = emu.live.snapshot_names()
        assert ahead > names and ix is not whole
        assert emu.live._current[2] is whole  # the whole model waits for the worker (or a reader of it)
        assert not ix.clusters  # built from what names depend on only
        assert ix.zone(emu.zone.zone_name).records[("extra", "A")].addresses == ["10.10.3.9"]
        assert emu.live.snapshot_names() == (ahead, ix)  # built once per names change
        apply(emu, ("cluster", "c9", 1, None, "scope", True, (), "QUFBQQ=="))
        assert emu.live.snapshot_names() == (ahead, ix)  # a cluster write keeps it
        rebuilt = emu.live.index  # the whole model catches up, and names resolve from it again
        assert emu.live.version > version and emu.live.snapshot_names()[1] is rebuilt
        assert emu.live.names_version > ahead
        assert describe(rebuilt) == describe(fresh(emu))
    finally:
        emu.live.close()
