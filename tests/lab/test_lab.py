"""The lab, built for real: nslookup in each site against the model, the engines, the firewall, cleanup."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from arclink.cli._topology import load_index
from arclink.model import catalogue as cat
from arclink.model.resolve import resolve, view_for

from .conftest import REPO, RUN_DIR, arclink, root_namespace, start_lab, stop_lab

EXAMPLES = ["examples/good.yaml"] + sorted(f"examples/broken/{p.name}" for p in (REPO / "examples/broken").glob("*.yaml"))


def nslookup_addresses(out: str) -> list[str]:
    """The answer's addresses (after the first 'Name:'), not the server's."""
    _, sep, answer = out.partition("Name:")
    return sorted(re.findall(r"^Address: (\S+)$", answer, re.M)) if sep else []


def modelled(ix, site: str, name: str) -> list[str]:
    return sorted(resolve(ix, view_for(ix, site), name, "A").addresses)


def test_good_each_engine_answers_as_the_model_and_the_root_namespace_stays_the_same(lab_factory):
    before = root_namespace()
    lab = lab_factory("examples/good.yaml", "--dns-engine", "store-rotterdam=unbound",
                      "--dns-engine", "store-utrecht=dnsmasq")
    during = root_namespace()
    ix = load_index(str(REPO / "examples/good.yaml"))
    engines = {"store-amsterdam": "named", "store-rotterdam": "unbound", "store-utrecht": "dnsmasq"}
    for site, exe in engines.items():
        ns = lab.record["sites"][site]
        ps = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=True).stdout.split()
        names = {Path(f"/proc/{p}/comm").read_text().strip() for p in ps}
        assert exe in names, (site, names)  # the real engine serves the site
        for name in cat.SEED_CHECK_NAMES:
            got = lab.exec(site, "nslookup", name)
            assert got.returncode == 0, got.stdout + got.stderr
            want = modelled(ix, site, name)
            assert want and all(cat.is_private(a) for a in want)
            assert nslookup_addresses(got.stdout) == want, (site, name, got.stdout)
    stop_lab(lab)
    after = root_namespace()
    assert during == before
    assert after == before


def test_missing_frontdoor_drops_real_packets(lab_factory):
    lab = lab_factory("examples/broken/firewall-missing-frontdoor.yaml")
    mcr = "mcr.microsoft.com"
    ca = str(RUN_DIR / lab.name / "emulator" / "ca.pem")
    curl = ["curl", "-sS", "-o", "/dev/null", "--connect-timeout", "2", "--cacert", ca,
            "-w", "%{remote_ip} %{http_code}", f"https://{mcr}/v2/"]
    blocked = lab.exec("store-utrecht", *curl)
    assert blocked.returncode == 28, blocked.stderr  # 28: timed out; the packet was dropped, nothing refused
    open_site = lab.exec("store-amsterdam", *curl)
    assert open_site.returncode == 0, open_site.stderr  # the registry answers, its certificate trusted
    assert open_site.stdout == f"{cat.public_address(mcr)} 200"


def test_down_after_kill_9_of_up_leaves_nothing(lab_capable, tmp_path):
    before = root_namespace()
    lab = start_lab("examples/good.yaml", "--dns-engine", "dnsmasq", tmp_path=tmp_path)
    namespaces = lab.record["namespaces"]
    pids = lab.record["pids"]
    os.kill(lab.proc.pid, signal.SIGKILL)
    lab.proc.wait(10)
    done = arclink("lab", "down", "--name", lab.name)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert not any(ns in listed for ns in namespaces)
    assert not (RUN_DIR / lab.name).exists()
    assert not any(Path("/etc/netns", ns).exists() for ns in namespaces)
    for pid in pids:  # gone, or a zombie waiting for init to reap it
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    assert root_namespace() == before


def test_exec_without_the_lab_is_one_sentence(lab_capable):
    got = arclink("lab", "exec", "--name", "nosuchlab", "store-amsterdam", "--", "true")
    assert got.returncode == 2
    assert got.stderr.strip() == ("arclink lab: no lab named 'nosuchlab' is up; start it with "
                                  "'arclink lab up TOPOLOGY --name nosuchlab'.")


def test_an_nsg_deny_drops_real_packets_to_the_endpoint(lab_capable, tmp_path):
    """The subnet's NSG (network policies on) denies store-amsterdam: its packets to the endpoint are
    dropped in the VNet, where the model refuses the cluster with BlockedByFirewall; Rotterdam passes."""
    import yaml

    from arclink.model.trace import cluster_trace

    doc = yaml.safe_load((REPO / "examples/good.yaml").read_text())
    doc["networkSecurityGroups"][0]["securityRules"].append(
        {"name": "DenyAmsterdamToEndpoints", "priority": 100, "direction": "Inbound", "access": "Deny",
         "protocol": "Tcp", "sourceAddressPrefix": "192.168.10.0/24", "destinationAddressPrefix": "10.10.1.0/24",
         "destinationPortRange": "443"})
    subnet = next(s for s in doc["virtualNetworks"][0]["subnets"] if s["name"] == "snet-endpoints")
    subnet["privateEndpointNetworkPolicies"] = "Enabled"
    path = tmp_path / "nsg-deny.yaml"
    path.write_text(yaml.safe_dump(doc))
    ix = load_index(str(path))
    assert cluster_trace(ix, ix.cluster("k3s-amsterdam")).first_failure[0] == "BlockedByFirewall"
    assert cluster_trace(ix, ix.cluster("k3s-rotterdam")).first_failure is None
    lab = start_lab(str(path), tmp_path=tmp_path)
    try:
        pe = modelled(ix, "store-amsterdam", "gbl.his.arc.azure.com")[0]
        curl = ["curl", "-sS", "-o", "/dev/null", "--connect-timeout", "2", "-w", "%{remote_ip}", f"https://{pe}/"]
        denied = lab.exec("store-amsterdam", *curl)
        assert denied.returncode == 28, denied.stderr  # timed out: dropped, not refused
        allowed = lab.exec("store-rotterdam", *curl)
        assert allowed.returncode not in (7, 28), allowed.stderr  # connected (the TLS name then differs)
        assert allowed.stdout == pe
    finally:
        stop_lab(lab)


def test_up_of_a_name_a_running_lab_holds_is_refused_and_touches_nothing(lab_capable):
    """Two users (or two test runs) on one machine: the second ``up`` of a name must not take the
    first lab for a stale one and tear it down under its owner."""
    from arclink.lab import netns, runtime

    name = f"held{os.getpid() % 100000}"
    claim = runtime._claim(name)  # what a running lab's owner holds for as long as it runs
    try:
        before = root_namespace()
        got = arclink("lab", "up", str(REPO / "examples" / "good.yaml"), "--name", name, timeout=60)
        assert got.returncode == 2, got.stderr
        lines = got.stderr.strip().splitlines()
        assert len(lines) == 1 and f"lab '{name}' is running" in lines[0]
        assert f"arclink lab down --name {name}" in lines[0] and "another --name" in lines[0]
        assert not netns.existing(f"arclink-{name}-") and not (RUN_DIR / name).exists()
        assert root_namespace() == before
    finally:
        os.close(claim)
