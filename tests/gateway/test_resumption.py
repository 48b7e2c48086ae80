"""An agent that reconnects with a TLS session ticket resumes its session, and is still admitted
only by a hello signed with its onboarding key."""

from __future__ import annotations

import asyncio
import json
import socket

from arclink import pki
from arclink.agent.runtime import client_context
from arclink.model.wire import encode_proxy_v2


def _connect(world, name: str, session, key=None):
    """One blocking connection: PROXY header, TLS (offering ``session``), hello; the answer."""
    agent = world.agent(name)
    fqdn = agent.config_name
    address = asyncio.run(agent.resolver.resolve(fqdn, agent.address))[0]
    sock = socket.create_connection(("127.0.0.1", world.gw.port), timeout=10)
    sock.sendall(encode_proxy_v2(agent.address, address))
    tls = client_context(str(world.state_dir / "ca.pem")).wrap_socket(sock, server_hostname=fqdn, session=session)
    with tls, tls.makefile("rwb") as f:
        signer = key or world.keys[name]
        hello = pki.signed_hello(signer, fqdn, "test", public_b64=pki.public_key_b64(world.keys[name]))
        f.write(json.dumps(hello).encode() + b"\n")
        f.flush()
        answer = json.loads(f.readline())
        return answer, tls.session, tls.session_reused


def test_a_resumed_session_is_admitted_and_still_signs_its_hello(world):
    first, session, reused = _connect(world, "ok", None)
    assert first["code"] == "Admitted" and not reused
    again, _, reused = _connect(world, "ok", session)
    assert again["code"] == "Admitted" and reused  # the server name reached the gateway on resumption too
    # a ticket proves nothing about the cluster: without the key's signature the agent is refused
    wrong, _, reused = _connect(world, "ok", session, key=pki.new_agent_key("ec"))
    assert reused and wrong["type"] == "refused" and wrong["code"] == "ClusterNotRegistered"
