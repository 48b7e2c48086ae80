"""The doctor's real-network mode and the agent, run inside a lab site, against emulator mode."""

from __future__ import annotations

import json

import pytest

from arclink.model import catalogue as cat

from .conftest import REPO, RUN_DIR, arclink, start_lab, stop_lab

SUB = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"
SCOPE = f"/subscriptions/{SUB}/resourceGroups/rg-arc-hub/providers/Microsoft.HybridCompute/privateLinkScopes/pls-arc-retail"
# the checks both modes run (emulator mode adds ADM001/RUL001 from the model)
COMMON = ("DNS001", "DNS002", "NET001", "TLS001", "PUB001", "PUB002")
DOCTOR_EXAMPLES = ["examples/good.yaml", "examples/broken/dns-forwards-to-public-resolver.yaml",
                   "examples/broken/firewall-missing-frontdoor.yaml"]


@pytest.fixture(scope="module", params=DOCTOR_EXAMPLES)
def shared_lab(request, lab_capable, tmp_path_factory):
    lab = start_lab(request.param, tmp_path=tmp_path_factory.mktemp("lab"))
    lab.topology = request.param
    request.addfinalizer(lambda: stop_lab(lab))
    return lab


def _doctor(*args) -> dict:
    got = arclink(*args, timeout=60)
    assert got.returncode in (0, 1), got.stderr
    return json.loads(got.stdout)


def _verdicts(report: dict) -> dict:
    return {(c["id"], c["target"]): c["status"] for c in report["checks"] if c["id"] in COMMON}


def test_doctor_in_the_site_gives_the_emulator_modes_verdicts(shared_lab):
    lab = shared_lab
    emulator = RUN_DIR / lab.name / "emulator"
    for site in lab.record["sites"]:
        emu = _doctor("doctor", "--enable-pls-check", "-j", "--explain", "--emulator", str(emulator / "endpoints.json"),
                      "--site", site, "--topology", str(REPO / lab.topology))
        got = lab.exec(site, "python3", "-m", "arclink", "doctor", "--enable-pls-check", "-j", "--explain",
                       "--ca-cert", str(emulator / "ca.pem"), "-l", emu["options"]["location"], timeout=60)
        net = json.loads(got.stdout)
        assert net["mode"] == "network" and emu["mode"] == "emulator"
        assert _verdicts(net) == _verdicts(emu), site
        # the diagnosis speaks of the same failing checks, and of none when nothing fails
        assert bool(net["diagnosis"]) == any(s == "fail" for s in _verdicts(emu).values()), site
        if lab.topology.endswith("firewall-missing-frontdoor.yaml") and site == "store-utrecht":
            # a real dropped packet: the TCP connect timed out, nothing refused it
            pub = {c["target"]: c for c in net["checks"] if c["id"] == "PUB002"}
            assert pub["mcr.microsoft.com"]["status"] == "fail"
            assert pub["mcr.microsoft.com"]["summary"].startswith("no TCP answer from")
            assert any(cat.TAG_FRONTDOOR in d["text"] for d in net["diagnosis"])


def test_agent_in_the_site_is_admitted_from_its_own_address(shared_lab):
    lab = shared_lab
    if not lab.topology.endswith("good.yaml"):
        return  # admission codes of the broken examples are the gateway's tests; the lab shows the path
    got = arclink("connect", "-g", "rg-arc-clusters", "-n", "k3s-amsterdam", "-l", "westeurope",
                  "--enable-private-link", "true", "--private-link-scope-resource-id", SCOPE, "--site",
                  "store-amsterdam", "--address", "192.168.10.10", "--lab", lab.name, "-y", "-o", "json")
    assert got.returncode == 0, got.stderr
    agent = json.loads(got.stdout)["agent"]
    assert agent["status"] == "Connected"
    assert agent["config"]["address"] == "10.10.1.9" and agent["config"]["path"] == "private"
    run = arclink("agent", "run", "-n", "k3s-amsterdam", "--once", "--lab", lab.name, "-o", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["status"] == "Connected"
    wrong = arclink("agent", "run", "-n", "k3s-amsterdam", "--once", "--lab", "nosuchlab")
    assert wrong.returncode == 2 and "no lab named 'nosuchlab' is up" in wrong.stderr
