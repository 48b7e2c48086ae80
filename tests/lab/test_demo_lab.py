"""``arclink demo --lab``: the demo's story, then the page's nslookup for real in each site of a lab."""

from __future__ import annotations

import os
import re

from arclink.cli.main import main

from .conftest import arclink, root_namespace


def test_demo_lab_without_root_is_one_sentence_and_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["demo", "--lab"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["arclink demo: the lab needs root (it creates network namespaces); run it "
                                        "with sudo."]


def test_demo_lab_prints_the_real_nslookup_lines(lab_capable):
    before = root_namespace()
    got = arclink("demo", "--lab", timeout=180)
    assert got.returncode == 0, got.stderr
    out = got.stdout
    lab = out[out.index("In the lab"):]
    # the Amsterdam store's BIND answers the endpoint's private address, as nslookup prints it
    block = lab[lab.index("store-amsterdam$ nslookup gbl.his.arc.azure.com"):]
    block = block.split("$ nslookup", 2)[1]
    assert re.search(r"Server:\s+192\.168\.10\.53", block)
    assert re.search(r"^\s+Address: 10\.10\.1\.4$", block, re.M)
    # the Utrecht store forwards to a public resolver: a public address
    block = lab[lab.index("store-utrecht$ nslookup gbl.his.arc.azure.com"):]
    addrs = re.findall(r"^\s+Address: (\d+\.\d+\.\d+\.\d+)$", block.split("$ nslookup", 2)[1], re.M)
    assert addrs and not addrs[0].startswith(("10.", "192.168."))
    assert root_namespace() == before
    # the demo's lab has a name of its own (two demos on one machine do not meet), and is gone
    name = re.search(r"\(lab '(demo-\d+)'\)", lab).group(1)
    assert not os.path.exists(f"/run/arclink-lab/{name}")
