"""Network security groups and their security rules.

Rules are both inline in the NSG's body and child resources; each is checked as ARM
does (enums, priority 100-4096, one priority per direction, port ranges). The six
default rules are added by the server.
"""

from __future__ import annotations

import uuid
from typing import Any

from arclink.arm import types
from arclink.arm.errors import ArmError, bad_request
from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.resources import nics
from arclink.arm.resources.common import mirror, sync_children
from arclink.arm.routes import Route
from arclink.arm.validation import validate_body
from arclink.model import arm_codec as codec
from arclink.model.nsg import port_range_error
from arclink.model.rules import Rule

ENFORCES: tuple[Rule, ...] = ()
T_RULE = "microsoft.network/networksecuritygroups/securityrules"
_RULE_ENUMS = {"protocol": ("Tcp", "Udp", "Icmp", "Esp", "*", "Ah"), "access": ("Allow", "Deny"),
               "direction": ("Inbound", "Outbound")}
_DEFAULT_RULES = (("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
                  ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
                  ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
                  ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
                  ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
                  ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"))

Priorities = dict[tuple[Any, Any], Any]  # (direction, priority) -> the rule's name


def _check_security_rule(r: Any, path: str, seen: Priorities) -> Body:
    """One security rule, validated and completed (ARM's enums, priority range, one priority per direction)."""
    if not isinstance(r, dict) or not isinstance(r.get("properties"), dict) or not isinstance(r.get("name"), str) \
            or not r["name"]:
        raise bad_request("InvalidRequestContent", f"{path} needs a name and properties.", path)
    body = {"properties": dict(r["properties"])}
    try:
        validate_body(types.T[T_RULE], body, None)
    except ArmError as exc:
        exc.target = f"{path}.{exc.target}" if path else exc.target
        raise
    rp = body["properties"]
    for k, allowed in _RULE_ENUMS.items():
        v = rp.get(k)
        if not isinstance(v, str) or v.lower() not in {a.lower() for a in allowed}:
            raise bad_request("SecurityRuleParameterInvalid" if v is not None else "InvalidRequestContent",
                              f"Security rule '{r['name']}': '{k}' must be one of {', '.join(allowed)} (got {v!r}).",
                              f"{path}.properties.{k}")
        rp[k] = next(a for a in allowed if a.lower() == v.lower())
    prio = rp.get("priority")
    if not isinstance(prio, int) or isinstance(prio, bool) or not 100 <= prio <= 4096:
        raise bad_request("SecurityRuleInvalidPriority", f"Security rule '{r['name']}' has invalid priority {prio!r}. "
                                                         "Allowed range 100-4096.", f"{path}.properties.priority")
    dup = seen.get((rp["direction"], prio))
    if dup and dup.lower() != r["name"].lower():
        raise bad_request("SecurityRuleConflict", f"Security rule '{r['name']}' conflicts with rule '{dup}': both "
                                                  f"have priority {prio} and direction {rp['direction']}. Rules "
                                                  "in one direction need distinct priorities.", f"{path}.properties.priority")
    seen[(rp["direction"], prio)] = r["name"]
    for k in ("sourcePortRange", "destinationPortRange", "sourceAddressPrefix", "destinationAddressPrefix"):
        plural = k.replace("Range", "Ranges").replace("Prefix", "Prefixes")
        if not rp.get(plural):
            rp.setdefault(k, "*")
    for k in ("sourcePortRange", "destinationPortRange", "sourcePortRanges", "destinationPortRanges"):
        values = rp.get(k)
        for v in (values if isinstance(values, list) else [] if values is None else [values]):
            problem = port_range_error(v)
            if problem:
                raise bad_request("SecurityRuleInvalidPortRange", problem, f"{path}.properties.{k}")
    rp["provisioningState"] = "Succeeded"
    return rp


def _nsg_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    p = new["properties"]
    seen: Priorities = {}
    rules = []
    names = set()
    for i, r in enumerate(p.get("securityRules") or []):
        path = f"properties.securityRules[{i}]"
        rp = _check_security_rule(r, path, seen)
        if r["name"].lower() in names:
            raise bad_request("DuplicateResourceName", f"Security rule '{r['name']}' is listed twice.", path)
        names.add(r["name"].lower())
        rules.append({"name": r["name"], "id": f"{new['id']}/securityRules/{r['name']}",
                      "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                      "etag": f'W/"{uuid.uuid4()}"', "properties": rp})
    p["securityRules"] = rules
    p["resourceGuid"] = (old or {}).get("properties", {}).get("resourceGuid") or str(uuid.uuid4())
    subnets = nics.nsg_subnets(store, new["id"])
    if subnets:
        p["subnets"] = subnets
    else:
        p.pop("subnets", None)
    p["defaultSecurityRules"] = [
        {"name": n, "id": f"{new['id']}/defaultSecurityRules/{n}",
         "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
         "properties": {"priority": pr, "direction": d, "access": a, "protocol": "*", "sourceAddressPrefix": s,
                        "sourcePortRange": "*", "destinationAddressPrefix": t, "destinationPortRange": "*",
                        "provisioningState": "Succeeded"}} for n, pr, d, a, s, t in _DEFAULT_RULES]


def _nsg_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    sync_children(store, route.key, "securityrules", new["properties"]["securityRules"])


def _rule_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    nsg_id = codec.parent_id(new["id"])
    seen: Priorities = {}
    for k in store.list_keys(nsg_id.lower() + "/securityrules"):
        if k != route.key:
            other = store.get_obj(k) or {}
            op = other.get("properties") or {}
            seen[(op.get("direction"), op.get("priority"))] = other.get("name")
    new["properties"] = _check_security_rule({"name": new["name"], "properties": new["properties"]}, "", seen)
    new.pop("location", None)
    new.pop("tags", None)


def _mirror_nsg(store: ResourceStore, nsg_id: str) -> None:
    mirror(store, nsg_id, "securityRules", "securityrules")


def _rule_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    _mirror_nsg(store, codec.parent_id(new["id"]))


def _rule_after_delete(store: ResourceStore, route: Route, old: Body) -> None:
    _mirror_nsg(store, codec.parent_id(old["id"]))


HOOKS = {
    codec.T_NSG: Hooks(prepare=_nsg_prepare, after_put=_nsg_after_put, check_model=True),
    T_RULE: Hooks(prepare=_rule_prepare, after_put=_rule_after_put, after_delete=_rule_after_delete),
}
