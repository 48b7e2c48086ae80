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
    curl = ["curl", "-sS", "-o", "/dev/null", "--connect-timeout", "2", "-w", "%{remote_ip}", f"https://{mcr}/"]
    blocked = lab.exec("store-utrecht", *curl)
    assert blocked.returncode == 28, blocked.stderr  # 28: timed out; the packet was dropped, nothing refused
    open_site = lab.exec("store-amsterdam", *curl)
    assert open_site.returncode not in (7, 28), open_site.stderr  # connected (the TLS name then differs)
    assert open_site.stdout == cat.public_address(mcr)


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
