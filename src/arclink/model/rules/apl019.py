"""APL019: the private endpoint's connection is Approved."""

from __future__ import annotations

from typing import Iterator

from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL019",
    name="endpoint-connection-approved",
    severity="error",
    summary="Every private endpoint's connection to its target (the Azure Arc Private Link Scope) is Approved.",
    seed="Select **Add** to start the endpoint create process. You can also approve connections that were started in "
         "the Private Link center by selecting them, then selecting **Approve**.",
    fix="Approve the connection: in the portal open the scope, Configure > Private Endpoint connections, select it and "
        "choose Approve; or PUT .../privateLinkScopes/<scope>/privateEndpointConnections/<name> with "
        "privateLinkServiceConnectionState.status Approved (az rest --method put).",
)

_WHY = {
    "Pending": "it waits for the scope owner's approval, and until then the endpoint carries no traffic",
    "Rejected": "the scope owner rejected it, so the endpoint carries no traffic",
    "Disconnected": "the scope side removed it, so the endpoint carries no traffic",
}


def check(ix: Index) -> Iterator[Finding]:
    for pe in ix.endpoints.values():
        if pe.state == "Approved":
            continue
        if pe.scope is not None:
            target = f"Azure Arc Private Link Scope {shown(pe.scope)}"
            how = (f"approve it on the scope (Private Endpoint connections > Approve, or PUT "
                   f"{pe.scope.id}/privateEndpointConnections/<name> with status Approved)")
        else:
            target = f"'{pe.target_id}'"
            how = "approve it on the target resource's private endpoint connections"
        why = _WHY.get(pe.state, "it is not usable")
        if pe.state == "Disconnected":
            how = "recreate the endpoint, then approve the new connection if it is manual"
        yield finding(RULE, pe, f"the connection of private endpoint {shown(pe)} to {target} is {pe.state}: {why}; {how}.",
                      related=[pe.scope])
