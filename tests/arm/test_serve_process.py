"""`arclink serve` as a process: endpoints.json, clean shutdown, durability after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dns.message
import dns.query
import pytest

from arclink.sdk import EmulatorCredential, client_kwargs

KEYS = {"arm", "ca_cert", "token", "subscription", "tenant", "dns", "gateway", "pid"}


def _start(state: Path, *extra) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-m", "arclink", "serve", "--state", str(state), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    path = state / "endpoints.json"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.stderr.read()}")
        try:
            ep = json.loads(path.read_text())
            if ep.get("pid") == proc.pid:
                return proc, ep
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("serve did not write endpoints.json")


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)


def _clients(state: Path, sub: str):
    from azure.mgmt.hybridcompute import HybridComputeManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    path = state / "endpoints.json"
    kw = client_kwargs(path)
    cred = EmulatorCredential(path)
    return ResourceManagementClient(cred, sub, **kw), HybridComputeManagementClient(cred, sub, **kw)


def test_endpoints_and_clean_shutdown(tmp_path, procs):
    state = tmp_path / "st"
    proc, ep = _start(state, "--in-memory")
    procs.append(proc)
    assert KEYS <= set(ep)
    assert ep["arm"].startswith("https://127.0.0.1:") and Path(ep["ca_cert"]).is_file()
    assert ep["dns"]["host"] == "127.0.0.1" and ep["gateway"]["host"] == "127.0.0.1"
    query = dns.message.make_query("gbl.his.arc.azure.com", "A")
    reply = dns.query.udp(query, "127.0.0.1", port=ep["dns"]["port"], timeout=5)  # raises when nothing answers
    assert reply.id == query.id and reply.question == query.question
    rc, _ = _clients(state, ep["subscription"])
    assert rc.resource_groups.create_or_update("rg", {"location": "westeurope"}).name == "rg"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    out = proc.stdout.read()
    assert "ARM https://127.0.0.1:" in out and "Traceback" not in proc.stderr.read()


def test_sigint_also_stops(tmp_path, procs):
    proc, _ = _start(tmp_path / "st", "--in-memory")
    procs.append(proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 0


def test_acknowledged_writes_survive_kill_9(tmp_path, procs):
    state = tmp_path / "st"
    proc, ep = _start(state)
    procs.append(proc)
    sub = ep["subscription"]
    rc, hc = _clients(state, sub)
    rc.providers.register("Microsoft.HybridCompute")
    rc.resource_groups.create_or_update("rg", {"location": "westeurope"})
    for i in range(20):
        hc.private_link_scopes.create_or_update("rg", f"pls-{i}", {"location": "westeurope"})
    guid = hc.private_link_scopes.get("rg", "pls-7").properties.private_link_scope_id
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc2, ep2 = _start(state)
    procs.append(proc2)
    assert ep2["token"] == ep["token"] and ep2["subscription"] == sub and ep2["ca_cert"] == ep["ca_cert"]
    rc, hc = _clients(state, sub)
    names = sorted(s.name for s in hc.private_link_scopes.list_by_resource_group("rg"))
    assert names == sorted(f"pls-{i}" for i in range(20))
    assert hc.private_link_scopes.get("rg", "pls-7").properties.private_link_scope_id == guid


def test_bad_flags_are_one_line_errors(tmp_path):
    r = subprocess.run([sys.executable, "-m", "arclink", "serve", "--state", str(tmp_path / "s"), "--host", "0.0.0.0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "loopback" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "arclink", "serve", "--state", str(tmp_path / "s"), "--topology",
                        str(tmp_path / "missing.yaml")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "not found" in r.stderr and "Traceback" not in r.stderr


def test_one_server_per_state_dir_and_corrupt_db(tmp_path, procs):
    state = tmp_path / "st"
    proc, ep = _start(state)
    procs.append(proc)
    r = subprocess.run([sys.executable, "-m", "arclink", "serve", "--state", str(state)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "in use by another 'arclink serve'" in r.stderr and str(proc.pid) in r.stderr
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "arm.db").write_bytes(b"this is not a database" * 100)
    r = subprocess.run([sys.executable, "-m", "arclink", "serve", "--state", str(bad)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "cannot open the database" in r.stderr and "Traceback" not in r.stderr


def test_kill_9_during_concurrent_writes_keeps_every_acknowledged_one(tmp_path, procs):
    """Group commit: writes share commits, and none is answered before its commit is on disk."""
    import threading

    state = tmp_path / "st"
    proc, ep = _start(state)
    procs.append(proc)
    rc, hc = _clients(state, ep["subscription"])
    rc.providers.register("Microsoft.HybridCompute")
    rc.resource_groups.create_or_update("rg", {"location": "westeurope"})
    acked: list[str] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        from azure.mgmt.hybridcompute import HybridComputeManagementClient

        path = state / "endpoints.json"
        client = HybridComputeManagementClient(EmulatorCredential(path), ep["subscription"], retry_total=0,
                                               **client_kwargs(path))
        i = 0
        while not stop.is_set():
            name = f"w{n}-{i}"
            try:
                client.private_link_scopes.create_or_update("rg", name, {"location": "westeurope"})
            except Exception:  # the server went away mid-request: not acknowledged
                return
            acked.append(name)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(acked) < 200 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    proc.wait(timeout=10)
    assert len(acked) >= 50
    proc2, _ = _start(state)
    procs.append(proc2)
    _, hc = _clients(state, ep["subscription"])
    stored = {s.name for s in hc.private_link_scopes.list_by_resource_group("rg")}
    missing = [n for n in acked if n not in stored]
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"


def test_busy_dns_port_is_a_clear_error(tmp_path):
    import socket

    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        r = subprocess.run([sys.executable, "-m", "arclink", "serve", "--state", str(tmp_path / "s"), "--in-memory",
                            "--dns-port", str(busy.getsockname()[1])], capture_output=True, text=True, timeout=30)
    finally:
        busy.close()
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
