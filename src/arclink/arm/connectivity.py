"""What the gateway reports about a cluster, shown on its connectedCluster resource.

``recorder(store)`` is the ``record(cluster_id, status, code, reason, when)`` hook the
gateway calls (``LiveState.record_connectivity``): it sets ``connectivityStatus``,
``lastConnectivityTime`` (on a heartbeat), and on a refusal the reason in
``miscellaneousProperties`` and ``arcAgentProfile.agentErrors``. Status is not part of
the model, so the write keeps the store's generation: no model rebuild, no DNS or
gateway cache dropped, for thousands of heartbeating clusters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from arclink.arm.store import Store

CODE_KEY, REASON_KEY = "arclinkConnectivityCode", "arclinkConnectivityReason"


def recorder(store: Store) -> Callable[[str, str, str, str, dt.datetime], None]:
    def record(cluster_id: str, status: str, code: str, reason: str, when: dt.datetime) -> None:
        key = cluster_id.lower()
        with store.lock:
            obj = store.get_obj(key)
            if obj is None:
                return
            props = obj.setdefault("properties", {})
            props["connectivityStatus"] = status
            stamp = when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            if status == "Connected":
                props["lastConnectivityTime"] = stamp
            misc = dict(props.get("miscellaneousProperties") or {})
            profile = dict(props.get("arcAgentProfile") or {})
            if status == "Connected":
                misc.pop(CODE_KEY, None)
                misc.pop(REASON_KEY, None)
                profile["agentErrors"] = []
            else:
                misc[CODE_KEY], misc[REASON_KEY] = code, reason
                profile["agentErrors"] = [{"message": f"{code}: {reason}", "severity": "Error",
                                           "component": "arclink-gateway", "time": stamp}]
            props["miscellaneousProperties"] = misc
            props["arcAgentProfile"] = profile
            store.put_quiet(key, obj)  # durable, but no model rebuild: status is not part of the model
    return record


def extension_config(store: Store) -> Callable[[str], list[dict[str, Any]]]:
    """``cluster_config(cluster_id)``: the cluster's extension resources as its agent pulls them.

    What the config data plane hands an agent: each extension's type, release train, version
    and configuration settings (protected settings stay in ARM, as a GET shows them).
    """
    def config(cluster_id: str) -> list[dict[str, Any]]:
        out = []
        for key in store.list_keys(cluster_id.lower() + "/providers/microsoft.kubernetesconfiguration/extensions"):
            obj = store.get_obj(key) or {}
            p = obj.get("properties") or {}
            out.append({"name": obj.get("name"), "extensionType": p.get("extensionType"),
                        "releaseTrain": p.get("releaseTrain"), "version": p.get("version"),
                        "scope": p.get("scope"), "configurationSettings": p.get("configurationSettings") or {},
                        "provisioningState": p.get("provisioningState")})
        return out
    return config
