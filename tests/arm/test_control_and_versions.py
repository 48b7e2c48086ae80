"""Control API, api-version policy, state import/export, on-premises facts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from . import arm_fixtures

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "good.yaml"


def _scope_path(c, rg="rg", name="pls"):
    return f"/subscriptions/{c.sub}/resourceGroups/{rg}/providers/Microsoft.HybridCompute/privateLinkScopes/{name}"


def test_auth_required(clients):
    import json
    import ssl
    import urllib.error
    import urllib.request

    ep = clients.svc.endpoints
    ctx = ssl.create_default_context(cafile=ep["ca_cert"])
    for headers, code in (({}, "AuthenticationFailed"), ({"Authorization": "Bearer nope"}, "InvalidAuthenticationToken")):
        req = urllib.request.Request(f"{ep['arm']}/subscriptions/{ep['subscription']}/resourcegroups?api-version=2025-04-01",
                                     headers=headers)
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req, context=ctx, timeout=10)
        assert exc.value.code == 401
        assert json.loads(exc.value.read())["error"]["code"] == code


def test_api_version_strict(clients):
    c = clients
    arm_fixtures.start(c)
    path = _scope_path(c)
    assert c.raw("GET", path, api_version=None)[1]["error"]["code"] == "MissingApiVersionParameter"
    status, body = c.raw("PUT", path, {"location": "westeurope"}, api_version="2001-01-01")
    assert status == 400 and body["error"]["code"] == "NoRegisteredProviderFound"
    assert "2026-07-15" in body["error"]["message"]
    assert c.raw("GET", path, api_version="latest")[1]["error"]["code"] == "InvalidApiVersionParameter"
    status, body = c.raw("GET", f"/subscriptions/{c.sub}/resourcegroups", api_version="2001-01-01")
    assert status == 400 and body["error"]["code"] == "InvalidApiVersionParameter"
    status, body = c.raw("GET", f"/subscriptions/{c.sub}/resourceGroups/rg/providers/Microsoft.HybridCompute/widgets/w")
    assert status == 404 and body["error"]["code"] == "InvalidResourceType"
    status, body = c.raw("GET", f"/subscriptions/{c.sub}/resourceGroups/rg/providers/Microsoft.Nope/widgets/w")
    assert status == 404 and body["error"]["code"] == "InvalidResourceNamespace"
    # every version the SDK packages send is accepted
    for version in ("2025-01-13", "2026-07-15", "2026-09-01"):
        assert c.raw("PUT", path, {"location": "westeurope"}, api_version=version)[0] in (200, 201)


@pytest.mark.parametrize("mode", ["lenient", "off"])
def test_api_version_escapes(tmp_path, monkeypatch, mode):
    from arclink.stack import start_services

    from .conftest import Clients

    monkeypatch.setenv("ARCLINK_API_VERSION_CHECK", mode)
    svc = start_services(tmp_path / "s", in_memory=True)
    try:
        c = Clients(svc)
        arm_fixtures.start(c)
        assert c.raw("PUT", _scope_path(c), {"location": "westeurope"}, api_version="2001-01-01")[0] == 201
        status, _ = c.raw("GET", _scope_path(c), api_version=None)
        assert status == (200 if mode == "off" else 400)
    finally:
        svc.stop()
    # the flag wins over the environment
    svc = start_services(tmp_path / "s2", in_memory=True, api_version_check="strict")
    try:
        c = Clients(svc)
        assert c.raw("GET", f"/subscriptions/{c.sub}/resourcegroups", api_version="2001-01-01")[0] == 400
    finally:
        svc.stop()


def test_sites_and_forwarders_shape_the_model(clients):
    c = clients
    arm_fixtures.start(c)
    vnet = arm_fixtures.vnet(c, "rg", "vnet-hub")
    c.network.subnets.begin_create_or_update("rg", "vnet-hub", "snet-dns", {"properties": {"addressPrefix": "10.10.3.0/28"}}).result()
    scope = arm_fixtures.scope(c, "rg", "pls")
    status, body = c.raw("PUT", "/_arclink/dnsForwarders/dnspr", {"kind": "privateResolverInbound",
                                                                   "virtualNetwork": "vnet-hub", "ipAddress": "10.10.3.4"},
                         api_version=None)
    assert status == 200, body
    site = {"addressSpace": ["192.168.10.0/24"], "connections": [{"type": "ExpressRoute", "virtualNetwork": vnet["id"]
                                                                  if isinstance(vnet, dict) else vnet.id}],
            "dns": {"address": "192.168.10.53", "conditionalForwarders": [{"zone": "his.arc.azure.com",
                                                                          "targets": ["10.10.3.4"]}]}}
    status, body = c.raw("PUT", "/_arclink/sites/store-1", site, api_version=None)
    assert status == 200, body
    arm_fixtures.cluster(c, "rg", "k1", scope.id, tags={"arclink-site": "store-1", "arclink-address": "192.168.10.20"})
    ix = c.svc.live.index
    assert ix.cluster("k1").site.name == "store-1" and ix.cluster("k1").address == "192.168.10.20"
    assert ix.forwarders["dnspr"].vnet.name == "vnet-hub"
    # bad on-prem input is refused with a clear message
    status, body = c.raw("PUT", "/_arclink/sites/bad", {"addressSpace": ["192.168.10.0/24"],
                                                        "connections": [{"type": "ExpressRoute", "virtualNetwork": "nope"}]},
                         api_version=None)
    assert status == 400 and "nope" in body["error"]["message"]
    status, body = c.raw("PUT", "/_arclink/sites/bad", {"addressSpace": "x"}, api_version=None)
    assert status == 400
    for path in ("/_arclink/sites/bad", "/_arclink/state"):  # not UTF-8: a 400, not a 500
        status, body = c.raw("PUT" if "sites" in path else "POST", path, api_version=None, data=b'{"name": "\xff"}')
        assert status == 400 and body["error"]["code"] == "InvalidRequestContent", (path, body)
    assert c.raw("GET", "/_arclink/sites", api_version=None)[1]["value"][0]["name"] == "store-1"
    assert c.raw("DELETE", "/_arclink/sites/store-1", api_version=None)[0] == 200
    assert c.svc.live.index.cluster("k1").site is None


def test_state_dump_reset_and_import(clients):
    c = clients
    import yaml

    doc = yaml.safe_load(EXAMPLE.read_text())
    status, body = c.raw("PUT", "/_arclink/state?replace=true", doc, api_version=None)
    assert status == 200 and body["created"] > 20
    status, topo = c.raw("GET", "/_arclink/state", api_version=None)
    assert {cl["name"] for cl in topo["clusters"]} == {"k3s-amsterdam", "k3s-rotterdam", "k3s-utrecht"}
    assert c.raw("GET", "/_arclink/lint", api_version=None)[1]["summary"]["error"] == 0
    # the SDK sees what the import created
    sub = doc["defaults"]["subscription"]
    from azure.mgmt.hybridcompute import HybridComputeManagementClient

    from arclink.sdk import EmulatorCredential, client_kwargs

    hc = HybridComputeManagementClient(EmulatorCredential(c.path), sub, **client_kwargs(c.path))
    assert [s.name for s in hc.private_link_scopes.list()] == ["pls-arc-retail"]
    assert c.raw("POST", "/_arclink/reset", api_version=None)[0] == 200
    assert c.raw("GET", "/_arclink/state", api_version=None)[1].get("clusters", []) == []


def test_state_cli_roundtrip(tmp_path):
    state = tmp_path / "st"
    run = lambda *a: subprocess.run([sys.executable, "-m", "arclink", *a], capture_output=True, text=True, timeout=60)
    r = run("state", "import", str(EXAMPLE), "--state", str(state))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out.yaml"
    r = run("state", "export", "--state", str(state), "-o", str(out))
    assert r.returncode == 0, r.stderr
    r = run("lint", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("state", "export", "--state", str(tmp_path / "nothing"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "does not exist" in r.stderr


def test_state_cli_unusable_paths(tmp_path):
    """A database that is not one and an output path that cannot be written: one line, exit 2."""
    run = lambda *a: subprocess.run([sys.executable, "-m", "arclink", *a], capture_output=True, text=True, timeout=60)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "arm.db").write_text("not a database\n")
    for args in (("import", str(EXAMPLE)), ("export",)):
        r = run("state", *args, "--state", str(broken))
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "cannot open" in r.stderr and "--state" in r.stderr
    state = tmp_path / "new" / "st"  # import creates the state directory
    assert run("state", "import", str(EXAMPLE), "--state", str(state)).returncode == 0
    r = run("state", "export", "--state", str(state), "-o", str(tmp_path / "missing" / "out.yaml"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "cannot write" in r.stderr, r.stderr
