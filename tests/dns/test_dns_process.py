"""``arclink serve`` answers DNS from a process of its own (``arclink.dns.process``), fed by the emulator.

It answers as the server in the emulator's process does, sees a names write in the query after
the write's response, is not told of cluster writes, and stops with the emulator, however the
emulator stops.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from dns_fixtures import (BROKEN_SITE, FORWARDED_SITE, HUB_VNET, LEGACY_SITE, MANUAL_SITE, PUBLIC_FORWARDER_SITE,
                          SEED_NAMES, SPOKE_VNET, addresses, ask, document)

from arclink.dns.process import start_dns_process

CLIENTS = (None, FORWARDED_SITE, PUBLIC_FORWARDER_SITE, SPOKE_VNET, MANUAL_SITE, LEGACY_SITE, BROKEN_SITE, HUB_VNET)
NAMES = (*SEED_NAMES, "westeurope.dp.kubernetesconfiguration.azure.com", "big.privatelink.his.arc.azure.com",
         "medium.privatelink.his.arc.azure.com", "login.microsoftonline.com", "nothing.privatelink.his.arc.azure.com")
CLUSTERS_API = "2024-07-15-preview"
ZONES_API = "2024-06-01"
ZONE_PATH = ("/resourceGroups/rg-arc-hub/providers/Microsoft.Network/privateDnsZones/privatelink.his.arc.azure.com")


@pytest.fixture
def emulator(tmp_path):
    import yaml

    from arclink.stack import start_services

    topology = tmp_path / "world.yaml"
    topology.write_text(yaml.safe_dump(document()))
    svc = start_services(tmp_path / "state", in_memory=True, topology=str(topology))
    yield svc
    svc.stop()


def _arm(svc):
    from arclink.agent.arm_client import ArmClient, Endpoints

    return ArmClient(Endpoints.load(svc.state_dir / "endpoints.json"))


def _gone(pid: int) -> bool:
    """The process has exited (reaped, or a zombie its new parent has not reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def _records(response) -> tuple:
    # the order of an RRset's records rotates from answer to answer (round robin): compare them as sets
    return response.rcode(), response.flags, sorted(line for rrset in response.answer for line in rrset.to_text().splitlines())


def _wait_for(condition, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit  # a bound for a broken build, not a timing assumption
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_the_process_answers_as_the_server_in_the_emulators_process(emulator):
    from arclink.dns.server import start_dns_server

    dns = emulator._handles[0]
    assert dns.pid and dns.pid != os.getpid() and not _gone(dns.pid)
    with start_dns_server(emulator.live) as same_process:
        for client in CLIENTS:
            for name in NAMES:
                for rdtype in ("A", "AAAA"):
                    ours, theirs = (ask(s, name, rdtype, client=client) for s in (dns, same_process))
                    assert _records(ours) == _records(theirs), (name, rdtype, client)
    assert addresses(ask(dns, "gbl.his.arc.azure.com", client=FORWARDED_SITE))  # the comparison compared answers


@pytest.mark.timeout(180)
def test_a_names_write_is_in_the_next_answer_and_cluster_writes_are_not_told(emulator):
    arm, dns = _arm(emulator), emulator._handles[0]
    sub = emulator.endpoints["subscription"]
    zone = f"/subscriptions/{sub}{ZONE_PATH}"
    for i in range(20):  # each answer asked right after the write's response: no waiting, no retry
        address = f"10.10.1.{100 + i}"
        arm.put(f"{zone}/A/probe", ZONES_API, {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": address}]}})
        assert addresses(ask(dns, f"probe.{zone.rsplit('/', 1)[1]}", client=HUB_VNET)) == [address]
    counted = dns.counter.value
    assert counted == emulator.store.names_generation
    scope = next(iter(emulator.live.index.scopes.values())).id
    cluster = f"/subscriptions/{sub}/resourceGroups/rg-arc-clusters/providers/Microsoft.Kubernetes/connectedClusters"
    for i in range(5):
        arm.put(f"{cluster}/burst-{i}", CLUSTERS_API, {
            "location": "westeurope", "identity": {"type": "SystemAssigned"},
            "properties": {"agentPublicKeyCertificate": "MIIBCgKCAQEAtest", "privateLinkState": "Enabled",
                           "privateLinkScopeResourceId": scope}})
    assert dns.counter.value == counted  # the DNS process is not asked to fetch anything for clusters
    arm.delete(f"{zone}/A/probe", ZONES_API)
    assert dns.counter.value > counted
    assert ask(dns, f"probe.{zone.rsplit('/', 1)[1]}", client=HUB_VNET).rcode() == 3  # NXDOMAIN


def test_the_process_stops_with_the_emulator_and_frees_its_port(tmp_path):
    from arclink.stack import start_services

    svc = start_services(tmp_path / "state", in_memory=True)
    dns = svc._handles[0]
    pid, port = dns.pid, dns.port
    svc.stop()
    assert _gone(pid)
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):  # nothing holds the port any more
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", port))


PARENT = """
import sys
from arclink.dns.process import start_dns_process
proc = start_dns_process(lambda: (0, [], {}))
print(proc.pid, proc.port, flush=True)
sys.stdin.read()
"""


@pytest.mark.timeout(180)
def test_the_process_stops_when_the_emulator_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        pid, port = map(int, parent.stdout.readline().split())
        assert ask(type("S", (), {"host": "127.0.0.1", "port": port})(), "login.microsoftonline.com").answer
        os.kill(parent.pid, signal.SIGKILL)  # no clean-up: the kernel closes the link
        parent.wait()
        _wait_for(lambda: _gone(pid), f"the DNS process {pid} outlived the emulator that started it")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_a_process_that_cannot_start_says_why():
    def broken():
        raise OSError("the database is gone")

    with pytest.raises(RuntimeError, match="did not start: .*the database is gone"):
        start_dns_process(broken)


def test_when_the_names_cannot_be_read_the_last_ones_answer():
    state = {"fail": False}

    def names():
        if state["fail"]:
            raise OSError("the database is gone")
        return 0, [], {}

    with start_dns_process(names) as proc:
        server = type("S", (), {"host": proc.host, "port": proc.port})()
        before = ask(server, "login.microsoftonline.com")
        state["fail"] = True
        proc.names_changed(1)
        after = ask(server, "login.microsoftonline.com")
        assert after.rcode() == before.rcode() == 0 and addresses(after) == addresses(before)


@pytest.mark.timeout(180)
def test_a_process_that_dies_is_replaced_on_the_same_port():
    with start_dns_process(lambda: (0, [], {})) as proc:
        server = type("S", (), {"host": proc.host, "port": proc.port})()
        first = proc.pid
        assert ask(server, "login.microsoftonline.com").answer
        os.kill(first, signal.SIGKILL)
        _wait_for(lambda: proc.pid != first, "no DNS process replaced the one that died")
        assert proc.restarts == 1
        proc.wait_ready()
        assert ask(server, "login.microsoftonline.com").answer  # asked once: it waits in the socket if need be
        assert _gone(first) and not _gone(proc.pid)
    assert _gone(proc.pid)
