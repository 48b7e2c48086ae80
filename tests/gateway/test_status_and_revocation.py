"""Connectivity status on the cluster, and changes made through ARM applying without a restart."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from gateway_fixtures import World


def _wait(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_disassociating_refuses_the_next_connection(world):
    assert world.run("ok").status == "Connected"
    clusters = [msgspec.structs.replace(c, private_link_scope_resource_id=None) if c.name == "ok" else c
                for c in world.topology.clusters]
    world.change(clusters=clusters)
    rep = world.run("ok")
    assert rep.last_error.code == "ClusterNotAssociatedWithScope"
    # it had been Connected, so a refusal makes it Offline with the reason
    assert world.recorded[-1][1:3] == ("Offline", "ClusterNotAssociatedWithScope")


def test_revocation_reaches_an_open_session(world):
    async def scenario():
        agent = world.agent("ok")
        s = await agent.open(agent.config_name)
        assert (await s.request("heartbeat"))["connectivityStatus"] == "Connected"
        clusters = [msgspec.structs.replace(c, private_link_scope_resource_id=None) if c.name == "ok" else c
                    for c in world.topology.clusters]
        world.change(clusters=clusters)
        from arclink.agent.runtime import Refused
        with pytest.raises(Refused) as exc:
            await s.request("heartbeat")
        await s.close()
        return exc.value.outcome
    out = asyncio.run(scenario())
    assert out.code == "ClusterNotAssociatedWithScope"


def test_enabling_public_access_admits_the_public_cluster(world):
    assert world.run("public-dns").last_error.code == "PublicNetworkAccessDisabled"
    scopes = [msgspec.structs.replace(s, public_network_access="Enabled") for s in world.topology.private_link_scopes]
    world.change(private_link_scopes=scopes)
    rep = world.run("public-dns")
    assert rep.status == "Connected" and rep.config.path == "public"


def test_approval_takes_effect_on_the_next_connection(world):
    pending = [msgspec.structs.replace(p, connection_state="Pending") for p in world.topology.private_endpoints]
    world.change(private_endpoints=pending)
    assert world.run("ok").last_error.code == "PrivateEndpointConnectionNotApproved"
    approved = [msgspec.structs.replace(p, connection_state="Approved") for p in world.topology.private_endpoints]
    world.change(private_endpoints=approved)
    assert world.run("ok").status == "Connected"


def test_missed_heartbeats_make_it_offline(tmp_path):
    w = World(tmp_path, offline_after=0.3)
    try:
        assert w.run("ok").status == "Connected"
        cid = w.cluster("ok").id
        assert _wait(lambda: w.gw.status(cid)["connectivityStatus"] == "Offline")
        st = w.gw.status(cid)
        assert st["code"] == "HeartbeatMissed" and st["lastConnectivityTime"]
        assert w.recorded[-1][0] == cid and w.recorded[-1][1:3] == ("Offline", "HeartbeatMissed")
        # and a heartbeat brings it back
        assert w.run("ok").status == "Connected"
        assert w.gw.status(cid)["connectivityStatus"] == "Connected"
    finally:
        w.gw.close()


def test_connected_reports_are_throttled(world):
    async def beat():
        agent = world.agent("ok")
        s = await agent.open(agent.config_name)
        for _ in range(50):
            await s.request("heartbeat")
        await s.close()
    asyncio.run(beat())
    cid = world.cluster("ok").id
    assert [r[1] for r in world.recorded if r[0] == cid] == ["Connected"]


def test_config_is_served_by_the_dp_name_only(world):
    async def ask():
        agent = world.agent("ok")
        s = await agent.open("gbl.his.arc.azure.com")
        try:
            return await s.request("config")
        finally:
            await s.close()
    msg = asyncio.run(ask())
    assert msg["type"] == "error" and msg["code"] == "WrongEndpoint"
