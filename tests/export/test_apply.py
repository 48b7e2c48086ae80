"""``arclink apply``: the export plan, step by step, creates the topology.

First against a recording target (what the plan sends, read back with the emulator's own
codec), then against the real emulator over HTTPS: after apply, lint of the emulator finds
nothing and the emulator's state, exported, equals the plan.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from arclink.export.apply import StepFailed, apply_plan
from arclink.export.plan import PLAN_PROVIDERS, build_plan
from arclink.model import arm_codec
from arclink.model.index import build_index
from arclink.model.loader import load
from tests.export.conftest import GOOD, ROOT


def normalise(topo, providers=None) -> dict:
    """A topology in one canonical form: through the codec both ways (every resource then names
    its subscription and resource group), minus what Azure assigns (agent keys, scope GUIDs, the
    endpoint addresses, compared separately) and subscriptions that hold nothing of the plan.
    ``providers`` limits the registrations compared to those a target serves."""
    resources, onprem = arm_codec.resources_from_topology(topo)
    for r in resources:
        r.setdefault("name", r["id"].rsplit("/", 1)[-1])
    doc = msgspec.to_builtins(arm_codec.topology_from_resources(resources, onprem))
    doc.pop("defaults", None)
    used = {r["id"].split("/")[2].lower() for r in resources}
    doc["subscriptions"] = [s for s in doc.get("subscriptions", []) if s["id"].lower() in used]
    for s in doc["subscriptions"]:
        s.pop("name", None)
        if providers is not None:
            s["registeredProviders"] = sorted(p for p in s.get("registeredProviders", [])
                                              if p.lower() in {x.lower() for x in providers})
    for n in doc.get("networkSecurityGroups", []):
        for rule in n.get("securityRules", []):  # "*" is the default, written or not
            for k in [k for k, v in rule.items() if v == "*"]:
                del rule[k]
    # A records a private endpoint's zone group writes (Azure materialises them in the zone).
    ix = build_index(topo)
    written = {(z.zone_name, pr.record.label, pr.address) for pe in ix.endpoints.values() for z in pe.zones
               for pr in pe.records if pr.record.zone.private_zone == z.zone_name}
    for z in doc.get("privateDnsZones", []):
        z["records"] = [r for r in z.get("records", []) if not (
            r.get("type", "A") == "A" and len(r.get("addresses", [])) == 1
            and (z["name"].lower(), r["name"].lower(), r["addresses"][0]) in written)]
    for c in doc.get("clusters", []):
        c.pop("agentPublicKeyCertificate", None)
    for s in doc.get("privateLinkScopes", []):
        s.pop("privateLinkScopeId", None)
    for e in doc.get("privateEndpoints", []):
        e.pop("ipAddresses", None)
        e.pop("connectionState", None)
    for section in doc.values():
        if isinstance(section, list):
            section.sort(key=lambda x: json.dumps(x, sort_keys=True))
    return doc


def endpoint_addresses(ix) -> dict:
    return {pe.name: {r.record.fqdn: r.address for r in pe.records} for pe in ix.endpoints.values()}


def endpoint_states(ix) -> dict:
    return {pe.name: pe.state for pe in ix.endpoints.values()}


class Recorder:
    """Keeps what an ARM endpoint would store: bodies with id, name and type."""

    def __init__(self):
        self.resources: list[dict] = []
        self.onprem: dict = {"sites": {}, "dnsForwarders": {}}
        self.calls: list[str] = []

    def register(self, sub, ns):
        self.calls.append(f"register {ns}")
        self.resources.append({"id": f"/subscriptions/{sub}/providers/{ns}", "namespace": ns,
                               "registrationState": "Registered"})

    def get(self, arm_id, api_version):
        return next((r for r in self.resources if r["id"].lower() == arm_id.lower() and "namespace" not in r), None)

    def put(self, arm_id, api_version, body):
        from arclink.model.arm_codec import parent_id

        assert api_version
        self.calls.append(f"PUT {arm_id}")
        known = {r["id"].lower() for r in self.resources}
        if arm_id.count("/") > 4:  # everything but a resource group lives under something created earlier
            assert parent_id(arm_id).lower() in known or "/resourceGroups/" in arm_id, arm_id
        rtype = _type_of(arm_id)
        self.resources = [r for r in self.resources if r["id"].lower() != arm_id.lower()]  # a PUT replaces
        self.resources.append({**body, "id": arm_id, "name": arm_id.rsplit("/", 1)[-1], "type": rtype})
        return body

    def control(self, collection, name, body):
        self.calls.append(f"control {collection}/{name}")
        self.onprem[collection][name.lower()] = body


def _type_of(arm_id: str) -> str:
    parts = arm_id.split("/")
    if len(parts) == 5:
        return "Microsoft.Resources/resourceGroups"
    tail = arm_id.rsplit("/providers/", 1)[1].split("/")
    return "/".join([tail[0]] + tail[1::2])


def test_plan_applied_reads_back_as_the_topology():
    ix = load(GOOD)
    rec = Recorder()
    n = apply_plan(build_plan(ix), rec, agent_key=lambda step: "QUJD")
    # one call a step, plus the Azure Monitor scope an endpoint names, created before it
    assert n == len([c for c in rec.calls if "/microsoft.insights/privatelinkscopes/" not in c.lower()])
    assert rec.calls[0].startswith("register ")
    # sites before the clusters that run in them
    assert max(i for i, c in enumerate(rec.calls) if c.startswith("control sites/")) < \
        min(i for i, c in enumerate(rec.calls) if "/connectedClusters/" in c)
    got = arm_codec.topology_from_resources(rec.resources, rec.onprem)
    assert normalise(got) == normalise(ix.topology)
    assert endpoint_addresses(build_index(got)) == endpoint_addresses(ix)
    assert all(c.agent_public_key_certificate == "QUJD" for c in got.clusters)


def test_a_failing_step_names_itself():
    class Refuses(Recorder):
        def put(self, arm_id, api_version, body):
            if "privateEndpoints" in arm_id:
                raise RuntimeError("(PrivateEndpointCreationNotAllowed) nope")
            return super().put(arm_id, api_version, body)

    with pytest.raises(StepFailed, match=r"step \d+ \(create private endpoint pe-arc-retail .*\) failed: "
                                         r"\(PrivateEndpointCreationNotAllowed\) nope"):
        apply_plan(build_plan(load(GOOD)), Refuses(), agent_key=lambda s: "QUJD")


# --- against the emulator -------------------------------------------------------------------------


@pytest.fixture
def emulator(tmp_path):
    from arclink.cli import serve

    services = serve.start_services(state_dir=str(tmp_path / "state"), in_memory=True, host="127.0.0.1",
                                    arm_port=0, dns_port=0, gateway_port=0)
    try:
        yield tmp_path / "state" / "endpoints.json"
    finally:
        services.stop()


def exported_state(endpoints_json, tmp_path):
    """The emulator's state as a topology: ``arclink state export`` when present, else its control API."""
    import importlib.util

    if importlib.util.find_spec("arclink.cli.state") is None:
        from arclink.agent.arm_client import ArmClient, Endpoints

        doc = ArmClient(Endpoints.load(endpoints_json)).get("/_arclink/state", None)
        out = tmp_path / "state.json"
        out.write_text(json.dumps(doc))
        return load(out)
    out = tmp_path / "state.yaml"
    r = arclink("state", "export", "--emulator", str(endpoints_json), "-o", str(out))
    assert r.returncode == 0, r.stderr
    return load(out)


def arclink(*args):
    return subprocess.run([sys.executable, "-m", "arclink", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_apply_good_example_to_the_emulator(emulator, tmp_path):
    r = arclink("apply", str(GOOD), "--emulator", str(emulator))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    plan = build_plan(load(GOOD))
    assert lines[: len(plan.steps)] == [f"[{n}/{len(plan.steps)}] {s.title}" for n, s in enumerate(plan.steps, 1)]

    lint = arclink("lint", "--emulator", str(emulator), "--format", "json")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert json.loads(lint.stdout)["findings"] == []

    state = exported_state(emulator, tmp_path)
    served = (*PLAN_PROVIDERS, "Microsoft.Insights")  # the emulator serves Azure Monitor scopes too
    assert "skipped" not in r.stderr
    assert normalise(state.topology, served) == normalise(load(GOOD).topology, served)
    assert endpoint_addresses(state) == endpoint_addresses(load(GOOD))
    assert endpoint_states(state) == endpoint_states(load(GOOD))

    again = arclink("apply", str(GOOD), "--emulator", str(emulator), "--output", "json")  # idempotent
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["total"] == len(plan.steps) and summary["applied"] == len(plan.steps)
    assert [s["id"] for s in summary["steps"]] == [s.id for s in plan.steps]
    assert normalise(exported_state(emulator, tmp_path).topology, served) == normalise(load(GOOD).topology, served)


def test_apply_spread_topology_with_manual_approval(emulator, tmp_path):
    """Resource groups depending on each other, peerings, zone records, and a manual connection
    that the plan approves: the emulator ends where the plan says."""
    from tests.export.conftest import FIXTURES

    spread = FIXTURES / "spread.yaml"
    r = arclink("apply", str(spread), "--emulator", str(emulator), "--force", "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    state = exported_state(emulator, tmp_path)
    want = load(spread)
    # the file lists no registrations; the plan registers what private link needs
    assert normalise(state.topology, ()) == normalise(want.topology, ())
    assert set(PLAN_PROVIDERS) <= set(state.topology.subscriptions[0].registered_providers)
    assert endpoint_addresses(state) == endpoint_addresses(want)
    assert endpoint_states(state) == endpoint_states(want) == {"pe-spread": "Approved"}


def test_apply_refuses_a_plan_with_lint_errors(tmp_path):
    """The lint gate runs before anything is sent: no emulator is needed to be refused."""
    broken = ROOT / "examples" / "broken" / "two-scopes-one-vnet.yaml"
    r = arclink("apply", str(broken), "--emulator", str(tmp_path / "endpoints.json"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout == "" and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert "APL001" in line and "pass --force to apply anyway" in line


def test_serve_and_apply_name_extensions_alike():
    """`serve --topology` (the codec) and `apply`/the exports (the plan) create the same extension resources."""
    from arclink.export.plan import build_plan
    from arclink.model.arm_codec import resources_from_topology
    from arclink.model.loader import load

    ix = load(Path(__file__).resolve().parents[2] / "examples" / "good.yaml")
    by_codec = {r["id"].lower() for r in resources_from_topology(ix.topology)[0]
                if r.get("type") == "Microsoft.KubernetesConfiguration/extensions"}
    by_plan = {s.id.lower() for s in build_plan(ix).steps if s.type == "Microsoft.KubernetesConfiguration/extensions"}
    assert by_codec == by_plan
    assert any(i.endswith("/extensions/azuremonitor-containers") for i in by_codec)
