"""A fix made through the emulator's ARM API (with the real Azure SDK) shows in the next doctor run."""

from __future__ import annotations

import pytest

from doctor_fixtures import EXAMPLES, FULL_EMULATOR, by_id, doctor_json, emulator_args, failing

pytestmark = pytest.mark.timeout(120)


def test_approving_the_pending_connection_fixes_the_site(run_emulator):
    example = "broken/pending-endpoint-connection.yaml"
    path, endpoints, index = run_emulator(example)
    assert FULL_EMULATOR[str(path)], "the whole emulator, ARM included, serves this topology"
    from azure.mgmt.hybridcompute import HybridComputeManagementClient

    from arclink.sdk import EmulatorCredential, client_kwargs

    args = emulator_args(path, "store-amsterdam", EXAMPLES / example)
    rc, rep = doctor_json(*args, "-p")
    assert rc == 1
    assert by_id(rep, "NET001")["gbl.his.arc.azure.com"]["evidence"]["gateway"]["code"] == \
        "PrivateEndpointConnectionNotApproved"

    scope = index.scopes["pls-arc-retail"]
    client = HybridComputeManagementClient(EmulatorCredential(path), scope.subscription, **client_kwargs(path))
    pecs = list(client.private_endpoint_connections.list_by_private_link_scope("rg-arc-hub", "pls-arc-retail"))
    assert len(pecs) == 1
    client.private_endpoint_connections.begin_create_or_update("rg-arc-hub", "pls-arc-retail", pecs[0].name, {
        "properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}},
        polling_interval=0).result()

    rc, rep = doctor_json(*args, "-p")
    assert rc == 0, failing(rep)
    assert all(c["status"] == "pass" for c in by_id(rep, "NET001").values())
