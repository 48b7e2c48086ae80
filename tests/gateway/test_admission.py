"""The admission matrix: every reason code, each produced by a real TLS connection through the gateway."""

from __future__ import annotations

import asyncio
import socket

import msgspec
import pytest

from arclink import pki
from arclink.model.reach import REASONS
from tests.conftest import unavailable

SEED_SENTENCE = ("must be associated with the Azure Arc Private Link Scope, or the connection will be refused")


def test_admitted_through_the_private_endpoint(world):
    rep = world.run("ok")
    assert rep.status == "Connected", rep.to_dict()
    assert rep.discovery.path == rep.config.path == "private"
    assert rep.config.endpoint == "pe-arc-retail"
    assert rep.config.address.startswith("10.10.1.")
    assert rep.extensions == [{"name": "microsoft.flux", "extensionType": "microsoft.flux"}]
    st = world.gw.status(world.cluster("ok").id)
    assert st["connectivityStatus"] == "Connected" and st["lastConnectivityTime"]


def test_admitted_on_the_public_endpoint_without_private_link(world):
    rep = world.run("public-plain")
    assert rep.status == "Connected"
    assert rep.config.path == "public" and rep.config.address.startswith("20.")


@pytest.mark.parametrize("name, code", [
    ("not-associated", "ClusterNotAssociatedWithScope"),
    ("pl-disabled", "PrivateLinkNotEnabledForCluster"),
    ("island", "NoRouteToPrivateEndpoint"),
    ("public-dns", "PublicNetworkAccessDisabled"),
    ("closed", "BlockedByFirewall"),
])
def test_refusals(world, name, code):
    rep = world.run(name)
    assert rep.status == "Connecting"
    assert rep.last_error.code == code
    assert rep.last_error.reason.startswith(REASONS[code])
    cid = world.cluster(name).id
    # visible on the cluster: the recorder got Connecting with the code and the sentence
    assert (cid, "Connecting", code) in [(r[0], r[1], r[2]) for r in world.recorded]
    assert any(e["cluster"] == cid and e["code"] == code for e in world.gw.events)


def test_not_associated_quotes_the_seed(world):
    rep = world.run("not-associated")
    assert SEED_SENTENCE in rep.last_error.reason
    assert rep.last_error.path == "private" and rep.last_error.address.startswith("10.10.1.")


def test_endpoint_not_approved(world):
    pes = [msgspec.structs.replace(p, connection_state="Pending") if p.name == "pe-arc-retail" else p
           for p in world.topology.private_endpoints]
    world.change(private_endpoints=pes)
    rep = world.run("ok")
    assert rep.last_error.code == "PrivateEndpointConnectionNotApproved"


def test_unknown_cluster_key(world):
    stranger = pki.new_agent_key("ec")
    rep = world.run("ok", key=stranger)
    assert rep.last_error.code == "ClusterNotRegistered"
    assert rep.last_error.reason.startswith(REASONS["ClusterNotRegistered"])


def test_wrong_key_for_a_registered_public_key(world):
    agent = world.agent("ok", key=pki.new_agent_key("ec"))
    agent.public_key = world.agent("ok").public_key  # claims ok's key, cannot sign for it
    rep = asyncio.run(agent.run_once())
    assert rep.last_error.code == "ClusterNotRegistered"
    assert "signature does not match" in rep.last_error.reason
    assert not any(r[1] == "Connected" for r in world.recorded)


def test_gateway_certificate_from_another_ca(world, tmp_path_factory):
    other = tmp_path_factory.mktemp("other-ca")
    pki.ensure_ca(other)
    rep = world.run("ok", ca_cert=str(other / "ca.pem"))
    assert rep.last_error.code == "GatewayCertificateUntrusted"
    assert world.gw.counters.get("admitted", 0) == 0


def test_rsa_onboarding_key(world):
    key = pki.new_agent_key("rsa2048")
    clusters = [msgspec.structs.replace(c, agent_public_key_certificate=pki.public_key_b64(key)) if c.name == "ok" else c
                for c in world.topology.clusters]
    world.change(clusters=clusters)
    assert world.run("ok", key=key).status == "Connected"
    assert world.run("ok").last_error.code == "ClusterNotRegistered"  # the old key no longer counts


def test_ipv6_loopback_gateway(tmp_path):
    import socket

    from gateway_fixtures import World

    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        unavailable("no IPv6 loopback here")
    from arclink.agent.resolver import ModelResolver
    from arclink.agent.runtime import Agent
    from arclink.gateway.server import start_gateway
    from arclink.model.index import build_index
    from arclink.model.live import LiveState

    base = World(tmp_path / "a")  # keys and topology; its own gateway listens on 127.0.0.1
    base.gw.close()
    live = LiveState(build_index(base.topology))
    gw = start_gateway(live, tmp_path / "a", host="::1")
    try:
        c = live.index.cluster("ok")
        agent = Agent("ok", base.keys["ok"], c.address, c.location, gateway=("::1", gw.port),
                      ca_cert=str(tmp_path / "a" / "ca.pem"), resolver=ModelResolver(live))
        assert asyncio.run(agent.run_once()).status == "Connected"
    finally:
        gw.close()


def test_any_loopback_address_and_nothing_else(tmp_path):
    """127.0.0.2 is loopback too (serve --host accepts it); a modelled address is never bound."""
    from arclink.gateway.server import start_gateway
    from arclink.model.index import build_index
    from arclink.model.live import LiveState
    from arclink.model.schema import Topology

    live = LiveState(build_index(Topology()))
    with pytest.raises(ValueError, match="loopback only"):
        start_gateway(live, tmp_path, host="10.10.1.9")
    with start_gateway(live, tmp_path, host="127.0.0.2") as gw:
        with socket.create_connection(("127.0.0.2", gw.port), timeout=5):
            pass
