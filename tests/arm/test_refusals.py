"""Hard limitations refused at write time, through the SDKs, with the rule id in the ARM error."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from . import arm_fixtures


@pytest.fixture
def base(clients):
    c = clients
    arm_fixtures.start(c)
    vnet = arm_fixtures.vnet(c, "rg", "vnet-hub")
    scope = arm_fixtures.scope(c, "rg", "pls-a")
    return c, vnet, scope


def _refused(call) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as exc:
        call()
    assert 400 <= exc.value.status_code < 500
    return exc.value


def test_apl001_second_scope_in_one_vnet(base):
    c, vnet, scope = base
    arm_fixtures.endpoint(c, "rg", "pe-a", vnet.id + "/subnets/snet-pe", scope.id)
    other = arm_fixtures.scope(c, "rg", "pls-b")
    err = _refused(lambda: arm_fixtures.endpoint(c, "rg", "pe-b", vnet.id + "/subnets/snet-pe", other.id))
    assert err.error.code == "PrivateLinkScopeAlreadyAssociatedWithVirtualNetwork"
    assert err.error.message.startswith("APL001: ") and "pls-a" in err.error.message
    # nothing was stored, the model is unchanged
    assert "pe-b" not in c.svc.live.index.endpoints
    assert not list(c.hybridcompute.private_endpoint_connections.list_by_private_link_scope("rg", "pls-b"))
    # a second endpoint to the same scope is fine
    arm_fixtures.endpoint(c, "rg", "pe-a2", vnet.id + "/subnets/snet-pe", scope.id)


def test_apl004_cluster_in_another_region(base):
    c, vnet, scope = base
    err = _refused(lambda: arm_fixtures.cluster(c, "rg", "k-east", scope.id, location="eastus"))
    assert err.error.code == "PrivateLinkScopeLocationMismatch"
    assert err.error.message.startswith("APL004: ")


def test_apl005_endpoint_in_another_region_than_vnet(base):
    c, vnet, scope = base
    err = _refused(lambda: arm_fixtures.endpoint(c, "rg", "pe-x", vnet.id + "/subnets/snet-pe", scope.id, location="northeurope"))
    assert err.error.code == "InvalidResourceReference"
    assert err.error.message.startswith("APL005: ")


def test_apl018_wrong_group_id(base):
    c, vnet, scope = base
    err = _refused(lambda: arm_fixtures.endpoint(c, "rg", "pe-x", vnet.id + "/subnets/snet-pe", scope.id, group="blob"))
    assert err.error.code == "PrivateEndpointBadRequest"
    assert err.error.message.startswith("APL018: ")
    assert "hybridcompute" in err.error.message


def test_apl021_south_east_asia(base):
    c, vnet, scope = base
    c.resources.resource_groups.create_or_update("rg-sea", {"location": "southeastasia"})
    err = _refused(lambda: arm_fixtures.scope(c, "rg-sea", "pls-sea", location="southeastasia"))
    assert err.error.code == "LocationNotAvailableForResourceType"
    assert err.error.message.startswith("APL021: ")
    err = _refused(lambda: arm_fixtures.cluster(c, "rg", "k-sea", scope.id, location="southeastasia"))
    assert err.error.code == "LocationNotAvailableForResourceType"
    assert err.error.message.startswith("APL021: ")
    # a cluster without private link may live there
    arm_fixtures.cluster(c, "rg", "k-sea-public", None, location="southeastasia")


def test_apl012_cluster_connect_and_custom_locations(base):
    c, vnet, scope = base
    for feature in ("cluster-connect", "custom-locations"):
        err = _refused(lambda: arm_fixtures.cluster(c, "rg", "k-feat", scope.id, features=[feature]))
        assert err.error.code == "FeatureNotSupportedWithPrivateLink"
        assert err.error.message.startswith("APL012: ")
        assert "The features 'cluster-connect' and 'custom-locations' cannot be enabled for a private link enabled " \
               "connected cluster." in err.error.message
    # the same features on a cluster without private link are accepted
    arm_fixtures.cluster(c, "rg", "k-public", None, features=["cluster-connect"])
    # and Cluster Connect's credential call is refused on a private-link cluster
    arm_fixtures.cluster(c, "rg", "k-pl", scope.id)
    err = _refused(lambda: c.k8s.connected_cluster.list_cluster_user_credential(
        "rg", "k-pl", {"authenticationMethod": "AAD", "clientProxy": True}))
    assert err.error.message.startswith("APL012: ")


def test_apl012_unsupported_extension(base):
    c, vnet, scope = base
    arm_fixtures.cluster(c, "rg", "k-pl", scope.id)
    err = _refused(lambda: c.config.extensions.begin_create(
        "rg", "Microsoft.Kubernetes", "connectedClusters", "k-pl", "data",
        {"properties": {"extensionType": "microsoft.arcdataservices"}}).result())
    assert err.error.message.startswith("APL012: ")


def test_references_must_exist(base):
    c, vnet, scope = base
    missing = scope.id.replace("pls-a", "pls-missing")
    err = _refused(lambda: arm_fixtures.endpoint(c, "rg", "pe-x", vnet.id + "/subnets/snet-pe", missing))
    assert err.error.code == "InvalidResourceReference"
    err = _refused(lambda: arm_fixtures.cluster(c, "rg", "k-x", missing))
    assert err.error.code == "LinkedResourceNotFound"
    # a subnet in use by an endpoint cannot be deleted
    arm_fixtures.endpoint(c, "rg", "pe-a", vnet.id + "/subnets/snet-pe", scope.id)
    err = _refused(lambda: c.network.subnets.begin_delete("rg", "vnet-hub", "snet-pe").result())
    assert err.error.code == "InUseSubnetCannotBeDeleted"


def test_lint_over_live_state(base):
    c, vnet, scope = base
    arm_fixtures.endpoint(c, "rg", "pe-a", vnet.id + "/subnets/snet-pe", scope.id)
    arm_fixtures.cluster(c, "rg", "k-nosite", scope.id)
    status, body = c.raw("GET", "/_arclink/lint", api_version=None)
    assert status == 200
    rules = {f["rule"] for f in body["findings"]}
    assert "APL015" in rules  # a private-link cluster with no site has no private path
    assert body["summary"]["error"] >= 1
    from arclink.cli.emulator_client import fetch_index

    ix = fetch_index(c.path)
    assert ix.cluster("k-nosite").scope.name == "pls-a"
