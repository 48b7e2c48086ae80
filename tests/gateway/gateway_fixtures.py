"""The gateway tests' world: a live state from topology.yaml with a key per cluster, and a gateway on it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
from arclink import pki
from arclink.agent.resolver import ModelResolver
from arclink.agent.runtime import Agent
from arclink.gateway.server import start_gateway
from arclink.model.index import build_index
from arclink.model.live import LiveState
from arclink.model.loader import load

TOPOLOGY = Path(__file__).with_name("topology.yaml")


class World:
    def __init__(self, state_dir: Path, **gateway_options):
        topo = load(TOPOLOGY).topology
        self.keys = {c.name: pki.new_agent_key("ec") for c in topo.clusters}
        clusters = [msgspec.structs.replace(c, agent_public_key_certificate=pki.public_key_b64(self.keys[c.name]))
                    for c in topo.clusters]
        self.topology = msgspec.structs.replace(topo, clusters=clusters)
        self.live = LiveState(build_index(self.topology))
        self.state_dir = state_dir
        self.recorded: list[tuple] = []
        self.gw = start_gateway(self.live, state_dir, record=lambda *a: self.recorded.append(a), **gateway_options)

    def cluster(self, name: str):
        return self.live.index.cluster(name)

    def agent(self, name: str, *, key=None, ca_cert: str | None = None, **kw) -> Agent:
        c = self.cluster(name)
        return Agent(name, key or self.keys[name], c.address, c.location, gateway=("127.0.0.1", self.gw.port),
                     ca_cert=ca_cert or str(self.state_dir / "ca.pem"), resolver=ModelResolver(self.live), **kw)

    def run(self, name: str, **kw):
        return asyncio.run(self.agent(name, **kw).run_once())

    def change(self, **sections):
        """Publish a new index with some top-level sections replaced (what an ARM write does)."""
        self.topology = msgspec.structs.replace(self.topology, **sections)
        self.live.publish(build_index(self.topology))
