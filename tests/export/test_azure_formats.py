"""Azure-side formats: one plan, rendered as az CLI, ARM, Bicep, Terraform and NSG JSON.

shellcheck checks the script. There is no ARM/Bicep/Terraform engine here (no Azure, no
bicep CLI, no provider downloads), so those are checked structurally: every reference
resolves, every planned resource appears once, dependencies point backwards.
``terraform fmt`` (syntax and canonical layout, offline) runs when terraform is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from arclink import export
from arclink.export.groups import arm_name
from arclink.export.plan import API_VERSIONS, build_plan
from arclink.model import catalogue as cat
from arclink.model.loader import load
from tests.conftest import require_tool


@pytest.fixture(scope="module")
def plan(good_index):
    return build_plan(good_index)


def test_plan_order_and_contents(plan):
    kinds = [s.kind for s in plan.steps]
    # sites right after the VNets: their VPN/ExpressRoute landing is the gateway a spoke's peering uses
    order = ["provider", "resourceGroup", "networkSecurityGroup", "virtualNetwork", "site", "privateLinkScope",
             "privateDnsZone", "privateEndpoint", "dnsForwarder", "connectedCluster"]
    firsts = [kinds.index(k) for k in order]
    assert firsts == sorted(firsts)
    seen = set()
    for s in plan.steps:  # dependencies always come earlier
        assert all(d in seen for d in s.depends_on), s.key
        seen.add(s.key)
    providers = {s.name for s in plan.of_kind("provider")}
    assert set(cat.REQUIRED_PROVIDERS) <= providers
    cl = plan.of_kind("connectedCluster")[0].body["properties"]
    assert cl["privateLinkState"] == "Enabled"
    assert cl["privateLinkScopeResourceId"].endswith("/Microsoft.HybridCompute/privateLinkScopes/pls-arc-retail")
    pe = plan.by_key["pe_pe_arc_retail"].body["properties"]["privateLinkServiceConnections"][0]["properties"]
    assert pe["groupIds"] == ["hybridcompute"]
    zg = plan.by_key["zg_pe_arc_retail"].body["properties"]["privateDnsZoneConfigs"]
    assert sorted(c["properties"]["privateDnsZoneId"].rsplit("/", 1)[-1] for c in zg) == sorted(cat.ARC_PRIVATE_ZONES)
    for s in plan.azure_steps:
        assert s.kind == "provider" or s.api_version, s.type


def test_azcli_script(good_index, tmp_path):
    shellcheck = require_tool("shellcheck")
    files = export.render("azcli", good_index)
    script = files["deploy.sh"]
    assert "set -euo pipefail" in script
    for ns in cat.REQUIRED_PROVIDERS:
        assert f"az provider register --namespace {ns}" in script
    scope_id = build_plan(good_index).by_key["pls_pls_arc_retail"].id
    # the Azure side uses core az only; the extensions' commands are the onboarding script's
    assert "connectedk8s" not in script and "k8s-extension" not in script
    onboarding = files["onboard.sh"]
    assert "set -euo pipefail" in onboarding
    assert (f"az connectedk8s connect --resource-group rg-arc-clusters --name k3s-amsterdam --location westeurope "
            f"--enable-private-link true --private-link-scope-resource-id {scope_id}") in onboarding
    assert f"az resource create --id {scope_id} --api-version {API_VERSIONS[cat.ARC_RESOURCE_TYPE]}" in script
    # idempotent: every create is guarded by a show
    for line in (script + onboarding).splitlines():
        if re.search(r"\baz \S+( \S+)* create\b", line) and "dns-zone-group create" not in line:
            assert line.startswith("  "), line  # the guarded branch of 'show || create'
    export.write(files, tmp_path)
    for name in ("deploy.sh", "onboard.sh"):
        path = tmp_path / name
        r = subprocess.run([shellcheck, "-s", "bash", str(path)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout
        r = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr


def _arm_refs(expr: str):
    m = re.fullmatch(r"\[resourceId\('([^']+)', (.+)\)\]", expr)
    assert m, expr
    return m.group(1), "/".join(re.findall(r"'([^']*)'", m.group(2)))


def test_arm_template(good_index, plan):
    doc = json.loads(export.render("arm", good_index)["azuredeploy.json"])
    check_arm(doc, plan)
    clusters = [x for r in doc["resources"] for x in r["properties"]["template"]["resources"]
                if x["type"] == "Microsoft.Kubernetes/connectedClusters"]
    assert {c["properties"]["privateLinkState"] for c in clusters} == {"Enabled"}
    assert set(doc["parameters"]["agentPublicKeyCertificates"]["defaultValue"]) == {c["name"] for c in clusters}


def check_arm(doc, plan):
    assert doc["$schema"] == "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
    outer = {r["name"] for r in doc["resources"]}
    assert len(outer) == len(doc["resources"])
    placed = []
    for r in doc["resources"]:
        assert r["type"] == "Microsoft.Resources/deployments"
        for d in r.get("dependsOn", []):
            assert d in outer, d
        # dependencies between deployments point backwards
        assert all([x["name"] for x in doc["resources"]].index(d) < doc["resources"].index(r) for d in r.get("dependsOn", []))
        inner = r["properties"]["template"]["resources"]
        names = {(x["type"], x["name"], x.get("scope")) for x in inner}
        for x in inner:
            assert x["apiVersion"]
            for d in x.get("dependsOn", []):
                t, n = _arm_refs(d)
                assert any(t == it and n == iname for it, iname, _ in names), d
            placed.append((x["type"], x["name"], x.get("scope"), r.get("resourceGroup")))
    expected = []
    for s in plan.azure_steps:
        if s.kind in ("provider", "connectionApproval"):  # not template resources
            continue
        if s.kind == "resourceGroup":
            expected.append((s.type, s.name, None, None))
        elif s.kind == "extension":
            cluster = plan.by_key[s.depends_on[0]].name
            expected.append((s.type, s.name, f"Microsoft.Kubernetes/connectedClusters/{cluster}", s.resource_group))
        else:
            expected.append((s.type, arm_name(s), None, s.resource_group))
    assert sorted(placed, key=str) == sorted(expected, key=str)


def test_bicep_structure(good_index, plan):
    check_bicep(export.render("bicep", good_index), plan)


def check_bicep(files, plan):
    main = files["main.bicep"]
    assert "targetScope = 'subscription'" in main
    modules = re.findall(r"^module (\w+) '([^']+)' = \{", main, re.M)
    assert modules and all(path in files for _, path in modules)
    symbols = set(re.findall(r"^resource (\w+) ", main, re.M)) | {m for m, _ in modules}
    for block in re.findall(r"dependsOn: \[\n((?:\s+\w+\n)+)\s+\]", main):
        assert set(block.split()) <= symbols
    declared = []
    for path, text in files.items():
        assert text.count("{") == text.count("}") and text.count("[") == text.count("]"), path
        local = set(re.findall(r"^resource (\w+) ", text, re.M))
        for ref in re.findall(r"^\s+(?:parent|scope): (\w+)$", text, re.M):
            assert ref in local, (path, ref)
        for block in re.findall(r"dependsOn: \[\n((?:\s+\w+\n)+)\s+\]", text):
            assert set(block.split()) <= local | symbols, path
        declared += re.findall(r"^resource (\w+) '([^@']+)@([^']+)' = \{", text, re.M)
        for sym, rtype, api in re.findall(r"^resource (\w+) '([^@']+)@([^']+)'", text, re.M):
            assert api == API_VERSIONS[rtype]
    want = {s.key for s in plan.azure_steps if s.kind not in ("provider", "connectionApproval")}
    assert {sym for sym, _, _ in declared} == want


def test_terraform_structure(good_index, tmp_path):
    text = export.render("terraform", good_index)["main.tf"]
    for rtype in ("azurerm_arc_private_link_scope", "azurerm_private_endpoint", "azurerm_private_dns_zone",
                  "azurerm_private_dns_zone_virtual_network_link", "azapi_resource"):
        assert f'resource "{rtype}"' in text
    assert "private_dns_zone_group {" in text
    assert 'subresource_names = [\n      "hybridcompute",' in text
    assert 'privateLinkState           = "Enabled"' in text
    check_terraform(text, tmp_path)


def check_terraform(text, tmp_path):
    declared = set(re.findall(r'^resource "(\w+)" "(\w+)"', text, re.M))
    for rtype, name in re.findall(r"\b((?:azurerm|azapi)_\w+)\.(\w+)\.(?:id|name)\b", text):
        assert (rtype, name) in declared, (rtype, name)
    assert text.count("{") == text.count("}")
    tf = shutil.which("terraform")
    if tf:  # not installed in CI: no Terraform engine there (README gap list)
        (tmp_path / "main.tf").write_text(text)
        r = subprocess.run([tf, "fmt", "-check", "-diff", str(tmp_path / "main.tf")], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr


def test_nsg_rules_are_the_seeds(good_index):
    doc = json.loads(export.render("nsg", good_index)["nsg-rules.json"])
    rules = {(r["name"], r["properties"]["direction"]): r["properties"] for r in doc["securityRules"]}
    assert {(n, p["priority"], p["destinationAddressPrefix"] if p["direction"] == "Outbound" else p["sourceAddressPrefix"])
            for (n, _), p in rules.items()} == {
        ("AllowAADOutboundAccess", 150, "AzureActiveDirectory"),
        ("AllowAzOutboundAccess", 151, "AzureResourceManager"),
        ("AllowAzureFrontDoorFirstPartyAccess", 152, "AzureFrontDoor.FirstParty"),
        ("AllowAzureFrontDoorFirstPartyInbound", 152, "AzureFrontDoor.FirstParty"),
        ("AllowMCROutboundAccess", 153, "MicrosoftContainerRegistry"),
    }
    assert all(p["protocol"] == "Tcp" and p["destinationPortRange"] == "443" and p["access"] == "Allow"
               for p in rules.values())
    # ... and the same rules are inside every Azure format for the example's NSG
    for kind, needle in (("azcli", "--name AllowAzureFrontDoorFirstPartyInbound --priority 152 --direction Inbound"),
                         ("terraform", 'name                       = "AllowMCROutboundAccess"'),
                         ("bicep", "name: 'AllowAADOutboundAccess'")):
        assert needle in "".join(export.render(kind, good_index).values()), kind


def test_spread_topology_in_every_format(tmp_path):
    """Resource groups depending on each other, peerings, zone records, manual approval."""
    from tests.export.conftest import FIXTURES

    shellcheck = require_tool("shellcheck")
    ix = load(FIXTURES / "spread.yaml")
    plan = build_plan(ix)
    check_arm(json.loads(export.render("arm", ix)["azuredeploy.json"]), plan)
    files = export.render("bicep", ix)
    check_bicep(files, plan)
    assert any(" existing = {" in t for t in files.values())  # a parent deployed by an earlier module
    text = export.render("terraform", ix)["main.tf"]
    check_terraform(text, tmp_path)
    for needle in ('resource "azurerm_virtual_network_peering"', 'resource "azurerm_private_dns_a_record"',
                   'resource "azurerm_private_dns_cname_record"', "is_manual_connection = true",
                   'resolution_policy     = "NxDomainRedirect"'):
        assert needle in text, needle
    script = export.render("azcli", ix)["deploy.sh"]
    assert "--manual-request true" in script and "az network vnet peering create" in script
    assert "az rest --method put --url \"${conn}?api-version=2025-01-13\"" in script
    assert "#   approve the connection of private endpoint pe-spread on scope pls-spread" in text
    onboarding = export.render("azcli", ix)["onboard.sh"]
    assert "--enable-private-link false" in onboarding and "--enable-private-link" not in script
    for name, text in (("deploy.sh", script), ("onboard.sh", onboarding)):
        (tmp_path / name).write_text(text)
        r = subprocess.run([shellcheck, "-s", "bash", str(tmp_path / name)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout


def test_nsg_guarding_the_endpoint_gets_the_seeds_missing_rules():
    from msgspec.structs import replace

    from arclink.model import schema
    from arclink.model.index import build_index
    from tests.export.conftest import GOOD

    topo = load(GOOD).topology
    nsg = topo.network_security_groups[0]
    custom = [schema.SecurityRule(name="CorpProxyOut", priority=150, direction="Outbound", access="Allow",
                                  protocol="Tcp", destination_address_prefix="10.99.0.10", destination_port_range="3128")]
    custom += [r for r in nsg.security_rules if r.access == "Deny"]
    ix = build_index(replace(topo, network_security_groups=[replace(nsg, security_rules=custom)]))
    step = build_plan(ix).by_key["nsg_nsg_hub_endpoints"]
    rules = {r["name"]: r["properties"] for r in step.body["properties"]["securityRules"]}
    # the user's rule keeps priority 150, so the seed's 150 rule is not forced in
    assert rules["CorpProxyOut"]["priority"] == 150 and "AllowAADOutboundAccess" not in rules
    for name in ("AllowAzOutboundAccess", "AllowAzureFrontDoorFirstPartyAccess", "AllowAzureFrontDoorFirstPartyInbound",
                 "AllowMCROutboundAccess", "DenyInternetOutbound"):
        assert name in rules
    assert "(the seed's rules it lacked were added)" in step.title
    for kind in ("azcli", "terraform", "bicep", "arm"):
        assert "AllowMCROutboundAccess" in "".join(export.render(kind, ix).values()), kind


def test_the_monitor_scope_an_endpoint_names_is_made_before_it(good_index, tmp_path):
    """The topology names the Azure Monitor Private Link Scope only as an endpoint's target; Azure refuses an
    endpoint to a resource that does not exist, so deploy.sh and main.tf make the scope first, as apply does."""
    script = export.render("azcli", good_index)["deploy.sh"]
    lines = script.splitlines()
    show = next(i for i, ln in enumerate(lines) if ln.startswith("az monitor private-link-scope show"))
    assert "--resource-group rg-arc-hub --name ampls-retail" in lines[show] and lines[show].endswith("|| \\")
    assert lines[show + 1].strip().startswith("az monitor private-link-scope create --resource-group rg-arc-hub "
                                              "--name ampls-retail")
    endpoint = next(i for i, ln in enumerate(lines) if "az network private-endpoint create" in ln and "pe-ampls-retail" in ln)
    assert show < endpoint
    assert script.count("az monitor private-link-scope create") == 1
    text = export.render("terraform", good_index)["main.tf"]
    assert 'resource "azurerm_monitor_private_link_scope" "monitor_ampls_retail"' in text
    assert "private_connection_resource_id = azurerm_monitor_private_link_scope.monitor_ampls_retail.id" in text
    check_terraform(text, tmp_path)
