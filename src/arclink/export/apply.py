"""Apply the ordered plan step by step to an ARM endpoint (the emulator), the same steps the
az script runs, with the script's ``show || create``: register providers, GET each resource and
PUT it (with the plan's api-version and body) only where it is missing, and hand the
on-premises parts (sites, DNS forwarders) to the target's control API. So a second run, like a
second run of the script, changes nothing.

What the script adds piece by piece is merged the same way: an existing NSG gets the planned
rules it lacks, an existing VNet the subnets and peerings it lacks; a cluster is connected again
only when its private-link state differs (as the script compares it); a manual connection is
answered only when its status is not the planned one yet.

The target is anything with ``register(subscription, namespace)``, ``get(id, api_version)``
(``None`` when absent), ``put(id, api_version, body)``, ``control(collection, name, body)`` and
``approve(...)``; ``arclink apply`` gives it the emulator's HTTPS client. Agent keys for
clusters come from ``agent_key(step)`` (a base64 public key), as ``az connectedk8s connect``
generates one per cluster.
"""

from __future__ import annotations

import copy
from typing import Callable, Protocol

from arclink.export.plan import API_VERSIONS, PLAN_PROVIDERS, Plan, Step, monitor_scope

CONTROL_COLLECTIONS = {"site": "sites", "dnsForwarder": "dnsForwarders"}


class Target(Protocol):
    def register(self, subscription: str, namespace: str) -> None: ...

    def get(self, arm_id: str, api_version: str) -> dict | None: ...

    def put(self, arm_id: str, api_version: str, body: dict) -> dict: ...

    def control(self, collection: str, name: str, body: dict) -> None: ...

    def approve(self, connections_url: str, api_version: str, endpoint_id: str, body: dict) -> None: ...


class StepFailed(Exception):
    def __init__(self, number: int, step: Step, cause: Exception):
        super().__init__(f"step {number} ({step.title}) failed: {cause}")
        self.number, self.step, self.cause = number, step, cause


def body_for(step: Step, agent_key: Callable[[Step], str] | None) -> dict:
    body = copy.deepcopy(step.body)
    if step.kind == "connectedCluster" and not body["properties"].get("agentPublicKeyCertificate") and agent_key:
        body["properties"]["agentPublicKeyCertificate"] = agent_key(step)
    return body


def optional(step: Step) -> bool:
    """A registration the private-link plan itself does not need (e.g. Microsoft.Insights for Azure
    Monitor): if the target refuses it, the run goes on."""
    return step.kind == "provider" and step.name.lower() not in {p.lower() for p in PLAN_PROVIDERS}


def _names(items) -> set[str]:
    return {(x.get("name") or "").lower() for x in items or []}


def _missing(planned: list[dict], current: list[dict] | None) -> list[dict]:
    have = _names(current)
    return [x for x in planned if x["name"].lower() not in have]


def _put_if_needed(plan: Plan, step: Step, target: Target, agent_key) -> bool:
    """The script's ``show || create`` for one resource step; True when something was sent."""
    if step.kind == "virtualNetworkPeering":
        # ARM takes peerings as child resources or inline in the VNet; the emulator serves the
        # inline form, so the VNet is sent again with the peerings it has plus this one.
        vnet = plan.by_key[step.depends_on[0]]
        body = _vnet_body(vnet, target.get(vnet.id, vnet.api_version) or {})
        if step.name.lower() in _names(body["properties"]["virtualNetworkPeerings"]):
            return False
        body["properties"]["virtualNetworkPeerings"].append({"name": step.name, **copy.deepcopy(step.body)})
        target.put(vnet.id, vnet.api_version, body)
        return True
    if step.kind == "privateEndpoint" and (monitor := monitor_scope(step)):
        # the topology names an Azure Monitor scope without declaring it: it must exist first
        scope_version = API_VERSIONS["Microsoft.Insights/privateLinkScopes"]
        if target.get(monitor, scope_version) is None:
            target.put(monitor, scope_version, {"location": "global"})
    current = target.get(step.id, step.api_version)
    body = body_for(step, agent_key)
    if current is not None:
        props = current.get("properties") or {}
        if step.kind == "networkSecurityGroup":
            lacking = _missing(body["properties"]["securityRules"], props.get("securityRules"))
            if not lacking:
                return False
            body["properties"]["securityRules"] = [{"name": r["name"], "properties": r.get("properties") or {}}
                                                   for r in props.get("securityRules") or []] + lacking
        elif step.kind == "virtualNetwork":
            if not _missing(body["properties"]["subnets"], props.get("subnets")):
                return False
            body = _vnet_body(step, current)
        elif step.kind == "connectedCluster":
            if props.get("privateLinkState") == body["properties"]["privateLinkState"]:
                return False
        else:
            return False
    target.put(step.id, step.api_version, body)
    return True


# What a peering's PUT body may carry (the rest of a GET answer is read-only).
_PEERING_INPUT = ("remoteVirtualNetwork", "allowVirtualNetworkAccess", "allowForwardedTraffic", "allowGatewayTransit",
                  "useRemoteGateways")


def _vnet_body(vnet: Step, current: dict) -> dict:
    """The plan's VNet body plus what the VNet already has (subnets the plan does not name,
    its peerings): the script adds subnets and peerings one by one and never deletes one."""
    body = copy.deepcopy(vnet.body)
    props = current.get("properties") or {}
    planned = _names(body["properties"]["subnets"])
    body["properties"]["subnets"] += [
        {"name": s["name"], "properties": {k: v for k, v in (s.get("properties") or {}).items() if k in _SUBNET_INPUT}}
        for s in props.get("subnets") or [] if s["name"].lower() not in planned]
    body["properties"]["virtualNetworkPeerings"] = [
        {"name": x["name"], "properties": {k: v for k, v in (x.get("properties") or {}).items() if k in _PEERING_INPUT}}
        for x in props.get("virtualNetworkPeerings") or []]
    return body


_SUBNET_INPUT = ("addressPrefix", "networkSecurityGroup", "privateEndpointNetworkPolicies")


def apply_plan(plan: Plan, target: Target, *, agent_key: Callable[[Step], str] | None = None,
               progress: Callable[[int, int, Step], None] | None = None,
               skipped: Callable[[int, Step, Exception], None] | None = None) -> int:
    """Run every step in order; raises ``StepFailed`` at the first failure of a needed step.
    Returns the number of steps done (a step whose resource is already as planned counts as done)."""
    steps = plan.steps
    done = 0
    for n, step in enumerate(steps, 1):
        if progress:
            progress(n, len(steps), step)
        try:
            if step.kind == "provider":
                target.register(step.subscription, step.name)
            elif step.kind == "connectionApproval":
                target.approve(step.id, step.api_version, step.source.id, step.body)
            elif step.azure:
                _put_if_needed(plan, step, target, agent_key)
            else:
                target.control(CONTROL_COLLECTIONS[step.kind], step.name, step.body)
            done += 1
        except Exception as exc:
            if optional(step) and skipped is not None:
                skipped(n, step, exc)
                continue
            raise StepFailed(n, step, exc) from exc
    return done
