"""Apply the ordered plan step by step to an ARM endpoint (the emulator), the same steps the
az script runs: register providers, PUT every resource with its api-version and body,
and hand the on-premises parts (sites, DNS forwarders) to the target's control API.

The target is anything with ``register(subscription, namespace)``, ``put(id, api_version,
body)`` and ``control(collection, name, body)``; ``arclink apply`` gives it the emulator's
HTTPS client. Agent keys for clusters come from ``agent_key(step)`` (a base64 public key),
as ``az connectedk8s connect`` generates one per cluster.
"""

from __future__ import annotations

import copy
from typing import Callable, Protocol

from arclink.export.plan import API_VERSIONS, PLAN_PROVIDERS, Plan, Step

CONTROL_COLLECTIONS = {"site": "sites", "dnsForwarder": "dnsForwarders"}


class Target(Protocol):
    def register(self, subscription: str, namespace: str) -> None: ...

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


def _monitor_scope(step: Step) -> str:
    props = step.body.get("properties") or {}
    for conn in (props.get("privateLinkServiceConnections") or []) + (props.get("manualPrivateLinkServiceConnections") or []):
        target = (conn.get("properties") or {}).get("privateLinkServiceId") or ""
        if "/providers/microsoft.insights/privatelinkscopes/" in target.lower():
            return target
    return ""


def apply_plan(plan: Plan, target: Target, *, agent_key: Callable[[Step], str] | None = None,
               progress: Callable[[int, int, Step], None] | None = None,
               skipped: Callable[[int, Step, Exception], None] | None = None) -> int:
    """Run every step in order; raises ``StepFailed`` at the first failure of a needed step.
    Returns the number of steps done."""
    steps = plan.steps
    done = 0
    peerings: dict[str, list] = {}  # VNet key -> peerings sent so far
    for n, step in enumerate(steps, 1):
        if progress:
            progress(n, len(steps), step)
        try:
            if step.kind == "provider":
                target.register(step.subscription, step.name)
            elif step.kind == "virtualNetworkPeering":
                # ARM takes peerings as child resources or inline in the VNet; the emulator serves
                # the inline form, so the VNet is sent again with every peering so far.
                vnet = plan.by_key[step.depends_on[0]]
                peerings.setdefault(vnet.key, []).append({"name": step.name, **copy.deepcopy(step.body)})
                body = copy.deepcopy(vnet.body)
                body["properties"]["virtualNetworkPeerings"] = peerings[vnet.key]
                target.put(vnet.id, vnet.api_version, body)
            elif step.kind == "privateEndpoint" and _monitor_scope(step):
                # the topology names an Azure Monitor scope without declaring it: it must exist first
                scope_type = "Microsoft.Insights/privateLinkScopes"
                target.put(_monitor_scope(step), API_VERSIONS[scope_type], {"location": "global"})
                target.put(step.id, step.api_version, body_for(step, agent_key))
            elif step.kind == "connectionApproval":
                target.approve(step.id, step.api_version, step.source.id, step.body)
            elif step.azure:
                target.put(step.id, step.api_version, body_for(step, agent_key))
            else:
                target.control(CONTROL_COLLECTIONS[step.kind], step.name, step.body)
            done += 1
        except Exception as exc:
            if optional(step) and skipped is not None:
                skipped(n, step, exc)
                continue
            raise StepFailed(n, step, exc) from exc
    return done
