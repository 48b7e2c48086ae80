"""The agent end to end: names resolved by the real DNS server (ECS = node address), TLS through the gateway."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from arclink.agent.resolver import DnsResolver, ResolutionFailed
from arclink.agent.runtime import Agent
from arclink.dns.server import start_dns_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
from gateway_fixtures import World  # noqa: E402


@pytest.fixture
def stack(tmp_path):
    w = World(tmp_path)
    dns = start_dns_server(w.live, "127.0.0.1", 0)
    w.resolver = DnsResolver("127.0.0.1", dns.port)
    yield w
    dns.close()
    w.gw.close()


def _agent(w, name, **kw):
    c = w.cluster(name)
    return Agent(name, w.keys[name], c.address, c.location, gateway=("127.0.0.1", w.gw.port),
                 ca_cert=str(w.state_dir / "ca.pem"), resolver=w.resolver, **kw)


def test_dns_answers_per_site(stack):
    async def ask():
        r = stack.resolver
        return (await r.resolve("gbl.his.arc.azure.com", "192.168.10.10"),
                await r.resolve("gbl.his.arc.azure.com", "192.168.60.10"))
    private, public = asyncio.run(ask())
    assert private == ["10.10.1.4"]
    assert public[0].startswith("20.")


def test_connected_through_real_dns(stack):
    rep = asyncio.run(_agent(stack, "ok", heartbeat_interval=0.05).run_once(heartbeats=2))
    assert rep.status == "Connected" and rep.heartbeats == 2
    assert rep.config.address == "10.10.1.9" and rep.config.path == "private"
    assert rep.extensions[0]["extensionType"] == "microsoft.flux"


@pytest.mark.parametrize("name, code", [("not-associated", "ClusterNotAssociatedWithScope"),
                                        ("public-dns", "PublicNetworkAccessDisabled")])
def test_refused_through_real_dns(stack, name, code):
    rep = asyncio.run(_agent(stack, name).run_once())
    assert rep.last_error.code == code


def test_unresolvable_name_is_reported(stack):
    async def ask():
        with pytest.raises(ResolutionFailed) as exc:
            await stack.resolver.resolve("nothing.his.arc.azure.com", "192.168.10.10")
        return exc.value
    assert asyncio.run(ask()).rcode == "NXDOMAIN"


def test_run_forever_heartbeats_and_stops(stack):
    async def run():
        a = _agent(stack, "ok", heartbeat_interval=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(a.run_forever(stop))
        for _ in range(400):  # until three heartbeats went through (bounded by the loop, not a clock)
            if a.report.heartbeats >= 3 or task.done():
                break
            await asyncio.sleep(0.05)
        stop.set()
        return await asyncio.wait_for(task, 5)
    rep = asyncio.run(run())
    assert rep.status == "Connected" and rep.heartbeats >= 3 and rep.extensions


def test_agent_refuses_a_non_loopback_gateway(stack):
    c = stack.cluster("ok")
    with pytest.raises(ValueError):
        Agent("ok", stack.keys["ok"], c.address, c.location, gateway=("10.10.1.4", 443), ca_cert="x",
              resolver=stack.resolver)
