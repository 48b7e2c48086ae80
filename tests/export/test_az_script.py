"""The exported az script runs as it is: the real az, ``set -euo pipefail``, from ``az-login`` to the end, twice.

Every example's ``deploy.sh`` (the Azure side, core az only) runs against an emulator of its own, two
examples at a time. What az does not create is seeded as ``lint --emulator``'s tests do: the on-premises
facts (sites, DNS forwarders) through the control API, and the clusters with the ARM PUTs ``onboard.sh``
(``az connectedk8s connect``, or ``arclink connect``) makes. An example Azure refuses at write time stops at
the refused command with Azure's code; every other one ends, ``lint --emulator`` then reports what
``lint FILE`` reports, and a second run of the script changes nothing.
"""

from __future__ import annotations

import concurrent.futures
import configparser
import json
import subprocess
import sys

import pytest

from arclink.export.plan import API_VERSIONS
from arclink.model.arm_codec import resources_from_topology
from tests.entra.conftest import az, refusing_proxy  # noqa: F401  (fixtures)
from az_script_fixtures import EXAMPLES, GOOD, Deployment, azure_side, lint_keys, refusal

pytestmark = pytest.mark.slow

_ONBOARDED = ("microsoft.kubernetes/connectedclusters", "microsoft.kubernetesconfiguration/extensions")


def _deployment(example, tmp_path, az, proxy) -> Deployment:  # noqa: F811
    return Deployment(example, tmp_path / example.stem, az, proxy.server_address[1]).start()


def _seed_what_az_does_not_create(d: Deployment) -> str | None:
    """Sites and forwarders through the control API, clusters and extensions as onboard.sh PUTs them.

    Returns the ARM code a cluster PUT was refused with, else None.
    """
    resources, onprem = resources_from_topology(d.index.topology)
    for kind, table in (("dnsForwarders", onprem.get("dnsForwarders") or {}), ("sites", onprem.get("sites") or {})):
        for obj in table.values():
            status, body, _ = d.call("PUT", f"/_arclink/{kind}/{obj['name']}", obj)
            assert status == 200, body
    for res in resources:
        if res.get("type", "").lower() not in _ONBOARDED:
            continue
        body = {k: v for k, v in res.items() if k not in ("id", "type")}
        status, answer, _ = d.call("PUT", f"{res['id']}?api-version={API_VERSIONS[res['type']]}", body)
        if status >= 400:
            return answer["error"]["code"]
        assert status in (200, 201), answer
    return None


def _lint(d: Deployment) -> tuple[set, set]:
    def run(*args):
        proc = subprocess.run([sys.executable, "-m", "arclink", "lint", *args, "--format", "json"], capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert proc.returncode in (0, 1), proc.stderr
        return lint_keys(json.loads(proc.stdout)["findings"])

    return run(str(d.example)), run("--emulator", str(d.svc.state_dir / "endpoints.json"))


def _deploy_twice(d: Deployment) -> list[str]:
    """What went wrong with one example's deploy.sh, run as exported (empty: nothing)."""
    name = d.example.name
    first = d.run()
    expected = refusal(azure_side(d.index.topology))
    if expected is not None:
        # Azure refuses it at write time: the script stops at the refused command with Azure's code
        if first.returncode == 0 or first.error_code != expected or first.stdout.rstrip().endswith("done"):
            return [f"{name}: expected to stop with {expected}, got {first.returncode} "
                    f"({first.error_code}) after {first.last_step!r}: {first.stderr[-2000:]}"]
        return []
    if first.returncode != 0 or not first.stdout.rstrip().endswith("done"):
        return [f"{name}: first run failed at {first.last_step!r}: {first.stderr[-2000:]}"]
    refused = _seed_what_az_does_not_create(d)
    if refused != refusal(d.index.topology):
        return [f"{name}: the clusters' PUTs gave {refused}, Azure gives {refusal(d.index.topology)}"]
    if refused is not None:
        return []  # onboard.sh's connect is the refused command; lint --emulator lacks the cluster then
    problems = []
    from_file, from_emulator = _lint(d)
    if from_emulator != from_file:
        problems.append(f"{name}: lint --emulator {sorted(from_emulator - from_file)} beyond the file's, "
                        f"{sorted(from_file - from_emulator)} missing")
    before = d.state()
    second = d.run()
    if second.returncode != 0:
        problems.append(f"{name}: second run failed at {second.last_step!r}: {second.stderr[-2000:]}")
    elif d.state() != before:
        problems.append(f"{name}: the second run changed the state")
    return problems


@pytest.mark.timeout(3000)  # 11 examples, some 40-90 az commands each, 1-5 s each on a busy 2-core machine
def test_every_example_deploys_twice_or_stops_where_azure_refuses(tmp_path, az, refusing_proxy):  # noqa: F811
    def one(example):
        d = _deployment(example, tmp_path, az, refusing_proxy)
        try:
            return _deploy_twice(d)
        finally:
            d.stop()

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        problems = [p for found in pool.map(one, EXAMPLES) for p in found]
    assert problems == []
    assert refusing_proxy.seen == []


def test_the_examples_cover_both_outcomes():
    """The run above means something only if some example is refused and some deploys."""
    outcomes = {refusal(azure_side(Deployment.topology_of(e))) is None for e in EXAMPLES}
    assert outcomes == {True, False}


def test_az_login_keeps_az_offline(tmp_path, az, refusing_proxy):  # noqa: F811
    d = _deployment(GOOD, tmp_path, az, refusing_proxy)
    try:
        config = configparser.ConfigParser()
        config.read(d.env["AZURE_CONFIG_DIR"] + "/config")
        assert config.get("core", "collect_telemetry") == "false"
        assert config.get("core", "instance_discovery") == "false"
        assert config.get("extension", "use_dynamic_install") == "no"
        assert config.get("auto-upgrade", "enable") == "no"
        proc = subprocess.run([az, "account", "show"], env=d.env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["id"] == d.subscription
        # an extension command is refused locally instead of being installed from the internet
        proc = subprocess.run([az, "connectedk8s", "show", "-g", "rg", "-n", "c"], env=d.env, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert proc.returncode != 0 and "connectedk8s" in proc.stderr
    finally:
        d.stop()
    assert refusing_proxy.seen == []
