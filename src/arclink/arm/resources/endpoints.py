"""Private endpoints and their private DNS zone groups.

An endpoint to an Azure Arc Private Link Scope creates the scope's private endpoint
connection (approved, or pending for a manual connection); its addresses come from the
network model with the endpoint in it. A zone group writes the endpoint's A records
into the private DNS zones it names, and removes them again.
"""

from __future__ import annotations

import uuid
from collections.abc import Set as AbstractSet
from typing import Any

from arclink.arm import types
from arclink.arm.errors import bad_request, refuse
from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.model_view import candidate_index, endpoint_target
from arclink.arm.resources import nics, resolvers
from arclink.arm.resources.common import arm_id_or_fail, ref_missing, type_of
from arclink.arm.resources.private_dns import zone_counts
from arclink.arm.resources.scopes import mirror_scope
from arclink.arm.routes import Route
from arclink.model import arm_codec as codec
from arclink.model import catalogue as cat
from arclink.model.rules import apl001, apl005, apl018

ENFORCES = (apl001.RULE, apl005.RULE, apl018.RULE)
# the served types a private endpoint can connect to (each gets its privateEndpointConnections)
PRIVATE_LINK_TARGETS = (cat.ARC_RESOURCE_TYPE.lower(), "microsoft.insights/privatelinkscopes")


def _connection(p: Body) -> tuple[str, Body, bool]:
    """The endpoint's one connection: its property name, the connection, and whether it is manual."""
    auto = p.get("privateLinkServiceConnections") or []
    manual = p.get("manualPrivateLinkServiceConnections") or []
    if bool(auto) == bool(manual) or len(auto or manual) != 1:
        raise bad_request("InvalidPrivateEndpoint", "A private endpoint needs exactly one connection, in either "
                                                    "privateLinkServiceConnections (approved automatically) or "
                                                    "manualPrivateLinkServiceConnections (approved by the scope owner).",
                          "properties.privateLinkServiceConnections")
    key = "privateLinkServiceConnections" if auto else "manualPrivateLinkServiceConnections"
    conn = (auto or manual)[0]
    if not isinstance(conn, dict) or not isinstance(conn.get("properties"), dict):
        raise bad_request("InvalidRequestContent", f"'properties.{key}[0].properties' must be an object.",
                          f"properties.{key}[0]")
    return key, conn, bool(manual)


def _pe_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    p = new["properties"]
    pe_id = new["id"]
    key, conn, manual = _connection(p)
    cp = conn["properties"]
    target = cp.get("privateLinkServiceId")
    parts = arm_id_or_fail(target, f"properties.{key}[0].properties.privateLinkServiceId")
    group_ids = cp.get("groupIds") or []
    if not isinstance(group_ids, list) or not all(isinstance(g, str) for g in group_ids):
        raise bad_request("InvalidRequestContent", "'groupIds' must be an array of strings.",
                          f"properties.{key}[0].properties.groupIds")
    target_type = f"{parts['ns']}/{parts['type']}"
    served = types.lookup(target_type.lower())
    if served is not None and target_type.lower() not in PRIVATE_LINK_TARGETS or parts["rest"]:
        raise bad_request("InvalidPrivateLinkServiceId",
                          f"'{target}' is not a private link service or a resource that offers private endpoints; for "
                          f"Azure Arc give the {cat.ARC_RESOURCE_TYPE} id.", f"properties.{key}[0].properties.privateLinkServiceId")
    problem = apl018.group_id_problem(target_type, group_ids)
    if problem:
        raise refuse(apl018.RULE, problem, f"properties.{key}[0].properties.groupIds")
    subnet_id = (p.get("subnet") or {}).get("id")
    arm_id_or_fail(subnet_id, "properties.subnet.id")
    subnet = store.get_obj(str(subnet_id))
    if subnet is None or type_of(subnet) != codec.T_SUBNET:
        raise ref_missing(str(subnet_id), pe_id)
    if resolvers.endpoints_in(store, subnet["id"]):
        raise bad_request("PrivateEndpointCreationNotAllowedAsSubnetIsDelegated",
                          f"Subnet {subnet['id']} is delegated to a DNS resolver endpoint; put the private endpoint in "
                          "another subnet.", "properties.subnet.id")
    vnet = store.get_obj(codec.parent_id(subnet["id"])) or {}
    problem = apl005.pe_region_mismatch(new["location"], vnet.get("location"), subnet["id"], pe_id)
    if problem:
        raise refuse(apl005.RULE, problem, "location")
    is_arc = target_type.lower() == cat.ARC_RESOURCE_TYPE.lower()
    # a target the emulator serves must exist (Azure refuses an endpoint to nothing); others are taken on trust
    scope = store.get_obj(target) if served is not None else None
    if served is not None and scope is None:
        raise ref_missing(target, pe_id)
    if scope is not None:
        cp["privateLinkServiceId"] = scope["id"]
    # the connection's state: kept across updates; new ones are approved or pending
    old_conn = (((old or {}).get("properties") or {}).get(key) or [{}])[0].get("properties") or {}
    same = old_conn.get("privateLinkServiceId", "").lower() == (cp.get("privateLinkServiceId") or "").lower()
    if same and old_conn.get("privateLinkServiceConnectionState"):
        state = old_conn["privateLinkServiceConnectionState"]
    elif manual:
        state = {"status": "Pending", "description": cp.get("requestMessage") or "Awaiting approval",
                 "actionsRequired": "None"}
    else:
        state = {"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"}
    hint = new.pop("_arclink", None) or {}
    if hint.get("connectionState"):
        state = {**state, "status": hint["connectionState"]}
    cname = conn.get("name") or new["name"]
    conn.update(name=cname, id=f"{pe_id}/{key}/{cname}", type=f"Microsoft.Network/privateEndpoints/{key}")
    conn.setdefault("etag", new.get("etag") or "")
    cp["privateLinkServiceConnectionState"] = state
    cp["provisioningState"] = "Succeeded"
    cp["groupIds"] = group_ids
    p[key] = [conn]
    p["privateLinkServiceConnections" if manual else "manualPrivateLinkServiceConnections"] = []
    p["subnet"] = {"id": subnet["id"]}
    p["networkInterfaces"] = (old or {}).get("properties", {}).get("networkInterfaces") or [
        {"id": f"{pe_id.split('/providers/')[0]}/providers/Microsoft.Network/networkInterfaces/"
               f"{new['name']}.nic.{uuid.uuid4()}"}]
    p.setdefault("ipConfigurations", [])
    p.setdefault("customNetworkInterfaceName", "")
    if not is_arc:
        p.setdefault("customDnsConfigs", [])
        return
    # addresses and APL001 come from the model with this endpoint in it
    keep = old is not None and same and ((old.get("properties") or {}).get("subnet") or {}).get("id", "").lower() \
        == subnet["id"].lower()
    p["customDnsConfigs"] = ((old or {}).get("properties", {}).get("customDnsConfigs") if keep else None) or \
        [{"fqdn": f, "ipAddresses": [ip]} for f, ip in (hint.get("ipAddresses") or {}).items()]
    _addresses_from_model(store, route, new)


def _addresses_from_model(store: ResourceStore, route: Route, new: Body) -> None:
    ix = candidate_index(store, route.key, new)
    per: Any = ix.by_id.get(new["id"].lower())  # a ResolvedEndpoint
    if per is None:
        return
    new["properties"]["customDnsConfigs"] = [{"fqdn": r.record.fqdn, "ipAddresses": [r.address]} for r in per.records]
    if per.vnet is None:
        return
    # the rule's own helper decides, so lint, explain and this refusal agree; an endpoint of the scope
    # that already holds the virtual network stays writable (in Azure it is the one created first)
    problem = apl001.association_problem(per)
    if problem is not None:
        raise refuse(apl001.RULE, problem, "properties.subnet.id")


def _pec_name(pe: Body) -> str:
    return f"{pe['name']}.{uuid.uuid5(uuid.NAMESPACE_URL, pe['id'].lower())}"


def _pe_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    old_target, _ = endpoint_target(old)
    target, cp = endpoint_target(new)
    if old and old_target and (not target or old_target.lower() != target.lower()):
        store.delete(f"{old_target}/privateEndpointConnections/{_pec_name(old)}")
        mirror_scope(store, old_target)
    group_ids = cp.get("groupIds") or [""]
    nics.sync_endpoint_nic(store, new, group_ids[0])
    for subnet in {_subnet_of(old).lower(), _subnet_of(new).lower()} - {""}:
        nics.refresh_subnet(store, subnet)
    scope = store.get_obj(target) if target else None
    if scope is None or type_of(scope) not in PRIVATE_LINK_TARGETS:
        return
    name = _pec_name(new)
    pec: Body = {"id": f"{scope['id']}/privateEndpointConnections/{name}", "name": name,
           "type": f"{scope['type']}/privateEndpointConnections",
           "properties": {"privateEndpoint": {"id": new["id"]},
                          "privateLinkServiceConnectionState": dict(cp.get("privateLinkServiceConnectionState") or {}),
                          "provisioningState": "Succeeded", "groupIds": list(cp.get("groupIds") or [])}}
    store.put(pec["id"], pec)
    mirror_scope(store, scope["id"])
    # a zone group's records follow the endpoint's addresses
    for k in store.list_keys(new["id"].lower() + "/privatednszonegroups"):
        grp = store.get_obj(k)
        if grp:
            _zone_group_fill(grp, new)
            store.put(k, grp)
            _zone_group_records(store, grp, new)


def _subnet_of(pe: Body | None) -> str:
    return (((pe or {}).get("properties") or {}).get("subnet") or {}).get("id") or ""


def _pe_after_delete(store: ResourceStore, route: Route, old: Body) -> None:
    nics.drop_endpoint_nic(store, old)
    if _subnet_of(old):
        nics.refresh_subnet(store, _subnet_of(old))
    target, _ = endpoint_target(old)
    if target:
        store.delete(f"{target}/privateEndpointConnections/{_pec_name(old)}")
        mirror_scope(store, target)


# --- private DNS zone groups -------------------------------------------------------------------------------


def _zone_group_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    pe = store.get_obj(codec.parent_id(new["id"])) or {}
    configs = new["properties"].get("privateDnsZoneConfigs") or []
    if not isinstance(configs, list):
        raise bad_request("InvalidRequestContent", "'properties.privateDnsZoneConfigs' must be an array.",
                          "properties.privateDnsZoneConfigs")
    for i, c in enumerate(configs):
        if not isinstance(c, dict) or not isinstance(c.get("properties"), dict):
            raise bad_request("InvalidRequestContent", f"properties.privateDnsZoneConfigs[{i}] needs an object "
                                                       "'properties' with privateDnsZoneId.",
                              f"properties.privateDnsZoneConfigs[{i}]")
        zid = c["properties"].get("privateDnsZoneId")
        if c.get("name") is not None and not isinstance(c["name"], str):
            raise bad_request("InvalidRequestContent", f"properties.privateDnsZoneConfigs[{i}].name must be a string.",
                              f"properties.privateDnsZoneConfigs[{i}].name")
        arm_id_or_fail(zid, f"properties.privateDnsZoneConfigs[{i}].properties.privateDnsZoneId")
        zone = store.get_obj(zid)
        if zone is None or type_of(zone) != codec.T_ZONE:
            raise ref_missing(zid, new["id"])
        c["properties"]["privateDnsZoneId"] = zone["id"]
        c.setdefault("name", zone["name"].replace(".", "-"))
    _zone_group_fill(new, pe)


def _zone_group_fill(grp: Body, pe: Body) -> None:
    """``recordSets`` of each config: the endpoint's FQDNs that fall in that zone."""
    addresses = {c.get("fqdn"): (c.get("ipAddresses") or [None])[0]
                 for c in (pe.get("properties") or {}).get("customDnsConfigs") or []}
    for c in grp["properties"].get("privateDnsZoneConfigs") or []:
        zname = c["properties"]["privateDnsZoneId"].rsplit("/", 1)[-1].lower()
        sets = []
        for rec in cat.arc_records(pe.get("location") or ""):
            ip = addresses.get(rec.fqdn)
            if ip and rec.zone.private_zone == zname:
                sets.append({"recordType": "A", "recordSetName": rec.label, "fqdn": rec.private_fqdn,
                             "provisioningState": "Succeeded", "ttl": 10, "ipAddresses": [ip]})
        c["properties"]["recordSets"] = sets


def _creator(pe_id: str) -> str:
    return f"created by private endpoint {pe_id.rsplit('/', 1)[-1]} (private DNS zone group)"


def _zone_group_records(store: ResourceStore, grp: Body, pe: Body, old: Body | None = None) -> None:
    creator = _creator(pe["id"])
    wanted = set()
    for c in grp["properties"].get("privateDnsZoneConfigs") or []:
        zone = store.get_obj(c["properties"]["privateDnsZoneId"])
        if zone is None:
            continue
        for rs in c["properties"].get("recordSets") or []:
            rid = f"{zone['id']}/A/{rs['recordSetName']}"
            wanted.add(rid.lower())
            fqdn = zone["name"] if rs["recordSetName"] == "@" else f"{rs['recordSetName']}.{zone['name']}"
            store.put(rid, {"id": rid, "name": rs["recordSetName"], "type": "Microsoft.Network/privateDnsZones/A",
                            "etag": str(uuid.uuid4()),
                            "properties": {"metadata": {"creator": creator}, "ttl": 10, "fqdn": fqdn + ".",
                                           "aRecords": [{"ipv4Address": a} for a in rs["ipAddresses"]],
                                           "isAutoRegistered": False}})
            zone_counts(store, zone["id"])
    if old is not None:
        _drop_records(store, old, creator, keep=wanted)


def _drop_records(store: ResourceStore, grp: Body, creator: str, keep: AbstractSet[str] = frozenset()) -> None:
    for c in grp["properties"].get("privateDnsZoneConfigs") or []:
        zid = c["properties"]["privateDnsZoneId"]
        for rs in c["properties"].get("recordSets") or []:
            rid = f"{zid}/A/{rs['recordSetName']}"
            rec = store.get_obj(rid)
            if rid.lower() not in keep and rec and (rec.get("properties") or {}).get("metadata", {}).get("creator") == creator:
                store.delete(rid)
        zone_counts(store, zid)


def _zone_group_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    pe = store.get_obj(codec.parent_id(new["id"])) or {}
    _zone_group_records(store, new, pe, old)


def _zone_group_after_delete(store: ResourceStore, route: Route, old: Body) -> None:
    _drop_records(store, old, _creator(codec.parent_id(old["id"])))


HOOKS = {
    codec.T_PE: Hooks(prepare=_pe_prepare, after_put=_pe_after_put, after_delete=_pe_after_delete),
    codec.T_ZONE_GROUP: Hooks(prepare=_zone_group_prepare, after_put=_zone_group_after_put,
                              after_delete=_zone_group_after_delete, check_model=True),
}
