"""The Azure formats against published schemas, where an engine cannot run here.

- ARM: every template resource is validated with ``jsonschema`` against the JSON Schema of its
  type built from the Azure SDK models on PyPI (``azure_models``): unknown or read-only
  properties, and wrong JSON types, are refused.
- Terraform: ``main.tf`` is parsed by python-hcl2 (an HCL2 parser from PyPI), and the bodies of
  its ``azapi_resource`` blocks are validated like the ARM ones. The azurerm resources'
  arguments have no schema here (the provider schema comes from a provider download).
- Bicep is not parsed (the compiler is a downloaded binary); its resource bodies are the
  plan's, the same the ARM test validates. CoreDNS and Windows DNS have neither an engine nor a
  published schema in the registries: they stay checked structurally. docs/export.md says so.
"""

from __future__ import annotations

import copy
import json

import hcl2
import jsonschema
import pytest

from arclink import export
from arclink.model.loader import load
from tests.export.azure_models import TEMPLATE_KEYS, schema_for
from tests.export.conftest import FIXTURES, GOOD

TOPOLOGIES = {"good": GOOD, "spread": FIXTURES / "spread.yaml", "hub-spoke": FIXTURES / "hub-spoke.yaml"}


def _template_resources(index) -> list[dict]:
    doc = json.loads(export.render("arm", index)["azuredeploy.json"])
    inner = [x for r in doc["resources"] for x in r["properties"]["template"].get("resources", [])]
    return inner


def _errors(resource: dict) -> list[str]:
    body = {k: v for k, v in resource.items() if k not in TEMPLATE_KEYS}
    validator = jsonschema.Draft202012Validator(schema_for(resource["type"]))
    return [f"{resource['type']} {resource['name']}: {e.json_path}: {e.message}"
            for e in validator.iter_errors(body)]


@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
def test_arm_resources_match_the_published_models(name):
    resources = _template_resources(load(TOPOLOGIES[name]))
    assert len({r["type"] for r in resources}) >= 8
    assert [e for r in resources for e in _errors(r)] == []


def test_the_model_schemas_refuse_what_azure_would():
    """The check bites: a misspelt property, a read-only one and a wrong type are each refused."""
    resources = _template_resources(load(FIXTURES / "hub-spoke.yaml"))
    peering = next(r for r in resources if r["type"].endswith("/virtualNetworkPeerings"))
    pe = next(r for r in resources if r["type"] == "Microsoft.Network/privateEndpoints")
    cluster = next(r for r in resources if r["type"] == "Microsoft.Kubernetes/connectedClusters")
    for resource, change, needle in (
        (peering, lambda p: p.update(allowGatewayTransits=True), "allowGatewayTransits"),
        (peering, lambda p: p.update(useRemoteGateways="yes"), "'yes' is not of type 'boolean'"),
        (pe, lambda p: p.update(provisioningState="Succeeded"), "provisioningState"),
        (pe, lambda p: p["ipConfigurations"][0]["properties"].update(privateIpAddress="10.41.1.10"), "privateIpAddress"),
        (cluster, lambda p: p.update(privateLinkScopeId="x"), "privateLinkScopeId"),
    ):
        broken = copy.deepcopy(resource)
        change(broken["properties"])
        errors = _errors(broken)
        assert errors and needle in " ".join(errors), (needle, errors)
    assert _errors(peering) == _errors(pe) == _errors(cluster) == []


def _unquote(d):
    if isinstance(d, dict):  # python-hcl2 keeps quotes and marks blocks
        return {k.strip('"'): _unquote(v) for k, v in d.items() if not k.startswith("__")}
    if isinstance(d, list):
        return [_unquote(x) for x in d]
    return d.strip('"') if isinstance(d, str) and d.startswith('"') and d.endswith('"') else d


@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
def test_terraform_parses_and_azapi_bodies_match_the_published_models(name):
    text = export.render("terraform", load(TOPOLOGIES[name]))["main.tf"]
    doc = _unquote(hcl2.loads(text))
    blocks = [(rtype, key, body) for r in doc["resource"] for rtype, named in r.items() for key, body in named.items()]
    assert {rtype for rtype, _, _ in blocks} >= {"azurerm_resource_group", "azapi_resource"}
    azapi = [body for rtype, _, body in blocks if rtype == "azapi_resource"]
    assert azapi
    for body in azapi:
        rtype, _, api = body["type"].partition("@")
        resource = {"type": rtype, "name": body["name"], "location": body["location"], **body["body"]}
        if "identity" in body:
            resource["identity"] = body["identity"][0] if isinstance(body["identity"], list) else body["identity"]
        assert _errors(resource) == []
