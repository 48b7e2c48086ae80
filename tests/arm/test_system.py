"""The emulator as one system: seeded from a topology, and the DNS server following ARM writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from arclink.model import loader

from .conftest import Clients

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "good.yaml"


@pytest.fixture
def seeded(tmp_path):
    from arclink.stack import start_services

    svc = start_services(tmp_path / "state", in_memory=True, topology=loader.load(EXAMPLE).topology)
    yield svc
    svc.stop()


def _ask(svc, name: str, client: str):
    import dns.edns
    import dns.message
    import dns.query

    assert svc.endpoints["dns"] is not None, "serve started without its DNS server"
    q = dns.message.make_query(name, "A", use_edns=0,
                               options=[dns.edns.ECSOption(client, 32)])
    r = dns.query.udp(q, svc.endpoints["dns"]["host"], port=svc.endpoints["dns"]["port"], timeout=5)
    return dns.rcode.to_text(r.rcode()), sorted(rr.address for rrset in r.answer for rr in rrset if rr.rdtype == 1)


def test_serve_topology_seeds_the_arm_view(seeded):
    c = Clients(seeded)
    assert c.sub == "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"  # the topology's default subscription
    assert [s.name for s in c.hybridcompute.private_link_scopes.list()] == ["pls-arc-retail"]
    clusters = {k.name: k for k in c.k8s.connected_cluster.list_by_subscription()}
    assert set(clusters) == {"k3s-amsterdam", "k3s-rotterdam", "k3s-utrecht"}
    assert clusters["k3s-amsterdam"].tags["arclink-site"] == "store-amsterdam"
    exts = [e.extension_type for e in c.config.extensions.list("rg-arc-clusters", "Microsoft.Kubernetes",
                                                                "connectedClusters", "k3s-amsterdam")]
    assert sorted(exts) == ["microsoft.azuremonitor.containers", "microsoft.flux"]
    providers = {p.namespace: p.registration_state for p in c.resources.providers.list()}
    assert providers["Microsoft.HybridCompute"] == "Registered"
    status, body = c.raw("GET", "/_arclink/lint", api_version=None)
    assert status == 200 and body["summary"]["error"] == 0


def test_dns_follows_arm_writes(seeded):
    c = Clients(seeded)
    pe = c.network.private_endpoints.get("rg-arc-hub", "pe-arc-retail")
    props = getattr(pe, "properties", None) or pe
    gbl = next((d["ipAddresses"] if isinstance(d, dict) else d.ip_addresses)[0] for d in props.custom_dns_configs
               if (d["fqdn"] if isinstance(d, dict) else d.fqdn) == "gbl.his.arc.azure.com")
    # a machine in store-amsterdam resolves the private address
    assert _ask(seeded, "gbl.his.arc.azure.com", "192.168.10.20") == ("NOERROR", [gbl])
    # take the zone group away through ARM: the records go, and the next answer shows it
    c.network.private_dns_zone_groups.begin_delete("rg-arc-hub", "pe-arc-retail", "default").result()
    rcode, addrs = _ask(seeded, "gbl.his.arc.azure.com", "192.168.10.20")
    assert gbl not in addrs
    # deleting the endpoint removes its connection from the scope
    c.network.private_endpoints.begin_delete("rg-arc-hub", "pe-arc-retail").result()
    scope = c.hybridcompute.private_link_scopes.get("rg-arc-hub", "pls-arc-retail")
    assert scope.properties.private_endpoint_connections == []
    assert "pe-arc-retail" not in seeded.live.index.endpoints


def test_cluster_delete_cascades_extensions(seeded):
    c = Clients(seeded)
    c.k8s.connected_cluster.begin_delete("rg-arc-clusters", "k3s-utrecht").result()
    status, body = c.raw("GET", f"/subscriptions/{c.sub}/resourceGroups/rg-arc-clusters/providers/Microsoft.Kubernetes/"
                                "connectedClusters/k3s-utrecht/providers/Microsoft.KubernetesConfiguration/extensions",
                         api_version="2023-05-01")
    assert status == 404 and body["error"]["code"] in ("ResourceNotFound", "ParentResourceNotFound")
    assert not [k for k in seeded.store.bodies if "/connectedclusters/k3s-utrecht" in k]
    assert "k3s-utrecht" not in seeded.live.index.clusters


def test_lint_emulator_command(seeded):
    import subprocess
    import sys

    from . import arm_fixtures

    path = str(seeded.state_dir / "endpoints.json")
    r = subprocess.run([sys.executable, "-m", "arclink", "lint", "--emulator", path], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    c = Clients(seeded)
    scope = c.hybridcompute.private_link_scopes.get("rg-arc-hub", "pls-arc-retail")
    arm_fixtures.cluster(c, "rg-arc-clusters", "k3s-nowhere", scope.id)  # private link, but no site: no private path
    r = subprocess.run([sys.executable, "-m", "arclink", "lint", "--emulator", path, "--format", "json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "k3s-nowhere" in r.stdout


def test_gateway_connectivity_shows_on_the_cluster(seeded):
    import datetime as dt

    c = Clients(seeded)
    cid = c.k8s.connected_cluster.get("rg-arc-clusters", "k3s-amsterdam").id
    version = seeded.live.version
    now = dt.datetime.now(dt.timezone.utc)
    seeded.live.record_connectivity(cid.lower(), "Connected", "Admitted", "", now)
    k = c.k8s.connected_cluster.get("rg-arc-clusters", "k3s-amsterdam")
    assert k.connectivity_status == "Connected" and k.last_connectivity_time is not None
    seeded.live.record_connectivity(cid, "Offline", "ClusterNotAssociatedWithScope", "not associated", now)
    k = c.k8s.connected_cluster.get("rg-arc-clusters", "k3s-amsterdam")
    assert k.connectivity_status == "Offline"
    assert k.arc_agent_profile.agent_errors[0].message.startswith("ClusterNotAssociatedWithScope")
    assert seeded.live.version == version  # status is not part of the model: no rebuild
    # a PUT by the owner keeps what the gateway saw
    k.tags = {"x": "y"}
    k = c.k8s.connected_cluster.begin_create_or_replace("rg-arc-clusters", "k3s-amsterdam", k).result()
    assert k.connectivity_status == "Offline"


def test_state_made_through_arm_round_trips(seeded):
    """Export what ARM writes made, import it elsewhere: the same model and findings."""
    from arclink.arm.live import StoreLiveState
    from arclink.arm.seed import seed_topology
    from arclink.arm.store import Store
    from arclink.cli.emulator_client import fetch_topology
    from arclink.model import rules
    from arclink.model.index import build_index

    from . import arm_fixtures

    c = Clients(seeded)
    c.resources.resource_groups.create_or_update("rg-extra", {"location": "westeurope"})
    vnet = arm_fixtures.vnet(c, "rg-extra", "vnet-spoke", prefix="10.30.0.0/16", subnet="10.30.1.0/24")
    scope = arm_fixtures.scope(c, "rg-extra", "pls-second")
    arm_fixtures.endpoint(c, "rg-extra", "pe-second",
                          (vnet["id"] if isinstance(vnet, dict) else vnet.id) + "/subnets/snet-pe", scope.id, manual=True)
    arm_fixtures.cluster(c, "rg-extra", "k3s-extra", scope.id, tags={"arclink-site": "store-utrecht"})
    topo = fetch_topology(c.path)
    original = {(f.rule, f.resource.lower()) for f in rules.run(seeded.live.index)}
    assert {(f.rule, f.resource.lower()) for f in rules.run(build_index(topo))} == original
    store = Store(None)
    seed_topology(store, topo)
    live = StoreLiveState(store)
    try:
        assert {(f.rule, f.resource.lower()) for f in rules.run(live.index)} == original
        pe = live.index.endpoints["pe-second"]
        assert pe.state == "Pending"
        assert [r.address for r in pe.records] == [r.address for r in seeded.live.index.endpoints["pe-second"].records]
    finally:
        live.close()


def test_serve_on_localhost_names_addresses_for_dns_and_gateway(tmp_path):
    """--host localhost: endpoints.json gives the bound addresses, which DNS clients (and the doctor) need."""
    from arclink.stack import start_services

    svc = start_services(tmp_path / "state", in_memory=True, host="localhost",
                         topology=loader.load(EXAMPLE).topology)
    try:
        assert svc.endpoints["arm"].startswith("https://localhost:")
        assert svc.endpoints["dns"]["host"] == svc.endpoints["gateway"]["host"] == "127.0.0.1"
        assert _ask(svc, "gbl.his.arc.azure.com", "192.168.10.10") == ("NOERROR", ["10.10.1.4"])
    finally:
        svc.stop()
