"""The exported az script runs as it is: the real az, ``set -euo pipefail``, from ``az-login`` to the end, twice.

``deploy.sh`` (the Azure side, core az only) runs against an emulator of its own. What az does not create
is seeded as ``lint --emulator``'s tests do: the on-premises facts (sites, DNS forwarders) through the
control API, and the clusters with the ARM PUTs ``onboard.sh`` (``az connectedk8s connect``, or
``arclink connect``) makes. Then ``lint --emulator`` must report what ``lint FILE`` reports, and a second
run of the script must leave the whole state as it was.
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
from az_script_fixtures import EXAMPLES, Deployment, azure_side, lint_keys, refusal

pytestmark = pytest.mark.slow

INSIGHTS = "Microsoft.Insights"
INSIGHTS_REGISTRATION = f"register resource provider {INSIGHTS}"
_ONBOARDED = ("microsoft.kubernetes/connectedclusters", "microsoft.kubernetesconfiguration/extensions")


def _deployment(example, tmp_path, az, proxy) -> Deployment:  # noqa: F811
    return Deployment(example, tmp_path / example.stem, az, proxy.server_address[1]).start()


def _without_insights_registration(script: str) -> str:
    """The script minus the one step the emulator cannot serve yet (Azure Monitor's namespace)."""
    line = next(ln for ln in script.splitlines() if f"az provider register --namespace {INSIGHTS} " in ln)
    return script.replace(line + "\n", "  true  # " + INSIGHTS + " is not served by this emulator\n")


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
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert proc.returncode in (0, 1), proc.stderr
        return lint_keys(json.loads(proc.stdout)["findings"])

    return run(str(d.example)), run("--emulator", str(d.svc.state_dir / "endpoints.json"))


def test_az_login_keeps_az_offline(tmp_path, az, refusing_proxy):  # noqa: F811
    d = _deployment(EXAMPLES[0], tmp_path, az, refusing_proxy)
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


@pytest.mark.timeout(900)
def test_every_example_stops_only_where_the_emulator_refuses(tmp_path, az, refusing_proxy):  # noqa: F811
    """Each example's deploy.sh as exported, in an emulator of its own (two at a time)."""
    # the good example's full run is the next test; here each runs until it ends or is refused
    def one(example):
        d = _deployment(example, tmp_path, az, refusing_proxy)
        try:
            return example, d.serves(INSIGHTS), d.run()
        finally:
            d.stop()

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(one, EXAMPLES))
    for example, insights, run in outcomes:
        if not insights:
            # Azure Monitor's namespace is not served yet: az stops where Azure would refuse an unknown one.
            assert run.returncode != 0, example.name
            assert (run.last_step, run.error_code) == (INSIGHTS_REGISTRATION, "InvalidResourceNamespace"), \
                (example.name, run.stderr)
            continue
        expected = refusal(azure_side(load_topology(example)))
        if expected is None:
            assert run.returncode == 0 and run.stdout.rstrip().endswith("done"), (example.name, run.stderr)
        else:
            assert run.returncode != 0 and run.error_code == expected, (example.name, run.stderr)
    assert refusing_proxy.seen == []


def load_topology(example):
    from arclink.model.loader import load

    return load(example).topology


@pytest.mark.timeout(1500)  # some 70 az commands, 1-5 s each on a busy 2-core machine
def test_azure_side_twice_then_lint_matches_the_file(tmp_path, az, refusing_proxy):  # noqa: F811
    example = EXAMPLES[0]
    d = _deployment(example, tmp_path, az, refusing_proxy)
    try:
        script = (d.workdir / "out" / "deploy.sh").read_text()
        if not d.serves(INSIGHTS):
            script = _without_insights_registration(script)
        expected = refusal(azure_side(d.index.topology))
        first = d.run(text=script)
        if expected is not None:
            # Azure refuses it at write time: the script stops at the refused command with Azure's code
            assert first.returncode != 0 and first.error_code == expected, first.stderr
            return
        assert first.returncode == 0, first.stderr
        refused = _seed_what_az_does_not_create(d)
        assert refused == refusal(d.index.topology)
        if refused is None:
            from_file, from_emulator = _lint(d)
            assert from_emulator == from_file
        before = d.state()
        second = d.run(text=script)
        assert second.returncode == 0, second.stderr
        # nothing is created the second time: every step found its resource
        assert before == d.state()
    finally:
        d.stop()
    assert refusing_proxy.seen == []
