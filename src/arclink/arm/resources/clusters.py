"""Arc-enabled Kubernetes clusters (connectedClusters) and their extensions.

A private-link cluster is refused what the seed says it cannot have (APL012: Cluster
Connect, custom locations, some extensions), a scope in another region (APL004) and a
region without Arc private link (APL021).
"""

from __future__ import annotations

import uuid

from arclink.arm.errors import bad_request, refuse
from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.resources.common import arm_id_or_fail
from arclink.arm.routes import Route
from arclink.model import arm_codec as codec
from arclink.model import catalogue as cat
from arclink.model.rules import apl004, apl012, apl021

ENFORCES = (apl004.RULE, apl012.RULE, apl021.RULE)


def _features(props: Body) -> list[str]:
    return [c["feature"] for c in props.get("arcAgentryConfigurations") or []
            if isinstance(c, dict) and isinstance(c.get("feature"), str)]


def _cluster_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    p = new["properties"]
    state = p.get("privateLinkState") or "Disabled"
    ref = p.get("privateLinkScopeResourceId")
    if state == "Enabled":
        problem = apl021.region_unavailable(new["location"])
        if problem:
            raise refuse(apl021.RULE, problem, "location")
    # Enabled without a scope is accepted (the spec does not require it): such a cluster is refused
    # by the gateway (ClusterNotAssociatedWithScope), as the seed says.
    if ref:
        parts = arm_id_or_fail(ref, "properties.privateLinkScopeResourceId")
        if f"{parts['ns']}/{parts['type']}".lower() != cat.ARC_RESOURCE_TYPE.lower():
            raise bad_request("LinkedInvalidPropertyId", f"'{ref}' is not a {cat.ARC_RESOURCE_TYPE} resource id.",
                              "properties.privateLinkScopeResourceId")
        scope = store.get_obj(ref)
        if scope is None:
            raise bad_request("LinkedResourceNotFound", f"The Azure Arc Private Link Scope '{ref}' was not found; create "
                                                        "it first or correct the id.", "properties.privateLinkScopeResourceId")
        p["privateLinkScopeResourceId"] = scope["id"]
        if state == "Enabled":
            problem = apl004.region_mismatch(new["location"], scope.get("location"))
            if problem:
                raise refuse(apl004.RULE, problem, "location")
    problem = apl012.feature_error(state, _features(p))
    if problem:
        raise refuse(apl012.RULE, problem, "properties.arcAgentryConfigurations")
    prev = (old or {}).get("properties") or {}
    ident = new.get("identity") or {"type": "SystemAssigned"}
    if ident.get("type") == "SystemAssigned":
        oi = (old or {}).get("identity") or {}
        ident["principalId"] = oi.get("principalId") or str(uuid.uuid4())
        ident["tenantId"] = oi.get("tenantId") or store.meta.get("tenant") or str(uuid.uuid4())
    new["identity"] = ident
    p["connectivityStatus"] = prev.get("connectivityStatus") or "Connecting"
    for k in ("kubernetesVersion", "agentVersion", "totalNodeCount", "totalCoreCount", "lastConnectivityTime"):
        if k in prev:
            p[k] = prev[k]
    p.setdefault("miscellaneousProperties", prev.get("miscellaneousProperties") or {})


def _cluster_check_patch(body: Body, old: Body) -> None:
    props = body.get("properties") or {}
    for k in ("privateLinkState", "privateLinkScopeResourceId"):
        if k in props and props[k] != (old.get("properties") or {}).get(k):
            raise bad_request("PropertyChangeNotAllowed",
                              f"Changing property '{k}' is not allowed with PATCH; it is set when the cluster is "
                              "connected (PUT, as 'az connectedk8s connect --enable-private-link' does).",
                              f"properties.{k}")


def _list_user_credential(cluster: Body) -> Body:
    """POST listClusterUserCredential: Cluster Connect, which a private-link cluster cannot use (APL012)."""
    if (cluster.get("properties") or {}).get("privateLinkState") == "Enabled":
        raise refuse(apl012.RULE, "Cluster Connect (listClusterUserCredential) is not supported on a private link "
                                  "enabled connected cluster. " + apl012.CLI_FEATURES_MESSAGE)
    return {"hybridConnectionConfig": None, "kubeconfigs": [{"name": "credentialName1", "value": ""}]}


def _extension_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    cluster = store.get_obj(route.parent_id) if route.parent_id else None
    p = new["properties"]
    cp = (cluster or {}).get("properties") or {}
    problem = apl012.extension_error(cp.get("privateLinkState"), p.get("extensionType") or "")
    if problem:
        raise refuse(apl012.RULE, problem, "properties.extensionType")
    if old is not None and (old.get("properties") or {}).get("extensionType", "").lower() != (p.get("extensionType") or "").lower():
        raise bad_request("PropertyChangeNotAllowed", "The extensionType of an existing extension cannot be changed; "
                                                      "delete it and create a new one.", "properties.extensionType")
    p.pop("configurationProtectedSettings", None)
    p.setdefault("autoUpgradeMode", "compatible")
    p["currentVersion"] = p.get("version") or (old or {}).get("properties", {}).get("currentVersion") or "1.0.0"
    p["isSystemExtension"] = False
    p["statuses"] = []
    p.setdefault("scope", {"cluster": {"releaseNamespace": "arc-extensions"}})


HOOKS = {
    codec.T_CLUSTER: Hooks(prepare=_cluster_prepare, check_patch=_cluster_check_patch,
                           actions={"listclusterusercredential": _list_user_credential}),
    codec.T_EXTENSION: Hooks(prepare=_extension_prepare),
}
