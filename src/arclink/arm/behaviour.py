"""What each resource type does beyond storing its body: server-set fields, side effects, refusals.

Dispatch is by type key; a type without an entry is just stored. Write-time refusals
call the rule modules' helpers (``arclink.model.rules.aplNNN``) so the emulator and
the linter say the same thing; the ARM error's message starts with the rule id.
"""

from __future__ import annotations

import importlib
import ipaddress
import uuid

from arclink.arm import types
from arclink.arm.errors import ArmError, bad_request
from arclink.model import arm_codec as codec
from arclink.model import catalogue as cat
from arclink.model.errors import TopologyError
from arclink.model.index import parse_arm_id
from arclink.model.nsg import port_range_error

# --- refusals through the rules -----------------------------------------------------------------


def _rule(module: str):
    try:
        return importlib.import_module(f"arclink.model.rules.{module}")
    except ImportError:
        return None


def refuse(rule_module: str, default_code: str, problem: str, target: str | None = None, status: int = 400):
    mod = _rule(rule_module)
    meta = getattr(mod, "RULE", None)
    rid = meta.id if meta else rule_module.upper()
    code = getattr(mod, "ERROR_CODE", None) or default_code
    fix = f" {meta.fix}" if meta else ""
    return ArmError(status, code, f"{rid}: {problem.rstrip('.')}.{fix}", target=target)


def _ref_missing(ref: str, by: str) -> ArmError:
    return bad_request("InvalidResourceReference", f"Resource {ref} referenced by resource {by} was not found. Please "
                                                   "make sure that the referenced resource exists, and that both "
                                                   "resources are in the same region.")


def _arm_id_or_fail(value, path: str) -> dict:
    parts = parse_arm_id(value) if isinstance(value, str) else None
    if not parts:
        raise bad_request("LinkedInvalidPropertyId", f"Property id '{value}' at path '{path}' is invalid. Expect fully "
                                                     "qualified resource Id that start with '/subscriptions/{subscriptionId}' "
                                                     "or '/providers/{resourceProviderNamespace}/'.", path)
    return parts


# --- dispatch ----------------------------------------------------------------------------------------


def prepare(eng, route, rtype, new, old) -> None:
    fn = _PREPARE.get(rtype.key) or (_record_prepare if rtype.key.startswith(codec.T_ZONE + "/") and
                                     rtype.parent == codec.T_ZONE and rtype.key != codec.T_LINK else None)
    if fn:
        fn(eng, route, new, old)
    if rtype.key in _CHECK_MODEL:
        candidate_index(eng, route.key, new)
    props = new.setdefault("properties", {})
    if not (rtype.parent == codec.T_ZONE and rtype.key != codec.T_LINK):
        props["provisioningState"] = "Succeeded"


def after_put(eng, route, rtype, new, old) -> None:
    fn = _AFTER_PUT.get(rtype.key)
    if fn:
        fn(eng, route, new, old)
    if rtype.parent == codec.T_ZONE:
        _zone_counts(eng, codec.parent_id(new["id"]))


def before_delete(eng, route, rtype, old, cascade: bool = False) -> None:
    fn = _BEFORE_DELETE.get(rtype.key)
    if fn and not cascade:
        fn(eng, route, old)


def after_delete(eng, route, rtype, old) -> None:
    fn = _AFTER_DELETE.get(rtype.key)
    if fn:
        fn(eng, route, old)
    if rtype.parent == codec.T_ZONE:
        _zone_counts(eng, codec.parent_id(old["id"]))


def check_patch(eng, route, rtype, body, old) -> None:
    if rtype.key == codec.T_CLUSTER:
        props = body.get("properties") or {}
        for k in ("privateLinkState", "privateLinkScopeResourceId"):
            if k in props and props[k] != (old.get("properties") or {}).get(k):
                raise bad_request("PropertyChangeNotAllowed",
                                  f"Changing property '{k}' is not allowed with PATCH; it is set when the cluster is "
                                  "connected (PUT, as 'az connectedk8s connect --enable-private-link' does).",
                                  f"properties.{k}")


# --- model candidate ---------------------------------------------------------------------------------

_MODEL_TYPES = {codec.T_RG, codec.T_VNET, codec.T_SUBNET, codec.T_SCOPE, codec.T_PE, codec.T_ZONE_GROUP, codec.T_ZONE,
                codec.T_NSG, codec.T_LINK, *(f"{codec.T_ZONE}/{t}" for t in codec.RECORD_TYPES)}
# Writes of these types are checked against the model they would make (so the live model always builds).
_CHECK_MODEL = {codec.T_VNET, codec.T_SUBNET, codec.T_NSG, codec.T_ZONE_GROUP, codec.T_ZONE, codec.T_LINK,
                *(f"{codec.T_ZONE}/{t}" for t in codec.RECORD_TYPES)}


def candidate_index(eng, replace_key: str, new: dict):
    """The index as it would be with ``new`` stored: addresses and APL001 come from it.

    Only what the network model needs is decoded (resource groups, networking, DNS, and the
    scopes endpoints point at), so a store of 100k clusters or scopes stays cheap to check.
    """
    objs = []
    # a VNet PUT replaces its subnets with the ones inline in its body
    drop_children = replace_key + "/subnets/" if (new.get("type") or "").lower() == codec.T_VNET else None
    scope_ids = set()
    for k in list(eng.store.bodies):
        if k == replace_key or (drop_children and k.startswith(drop_children)):
            continue
        if "/providers/microsoft.network/" not in k and k.count("/") != 4:
            continue
        o = eng.store.get_obj(k)
        if o and (o.get("type") or "").lower() in _MODEL_TYPES:
            objs.append(o)
            if (o.get("type") or "").lower() == codec.T_PE:
                target, _ = _pe_target(o)
                if target:
                    scope_ids.add(target.lower())
    objs.append(new)
    if (new.get("type") or "").lower() == codec.T_PE:
        target, _ = _pe_target(new)
        if target:
            scope_ids.add(target.lower())
    for sid in scope_ids:
        if sid != replace_key:
            scope = eng.store.get_obj(sid)
            if scope and (scope.get("type") or "").lower() == codec.T_SCOPE:
                objs.append(scope)
    try:
        return codec.index_from_resources(objs, onprem_of(eng.store))
    except TopologyError as exc:
        raise bad_request("InvalidResourceReference", f"The request would leave the emulated network inconsistent: "
                                                      f"{exc.message}") from None


def onprem_of(store) -> dict:
    o = store.meta.get("onprem") or {}
    return {"sites": o.get("sites") or {}, "dnsForwarders": o.get("dnsForwarders") or {},
            "defaultSubscription": store.meta.get("subscription")}


# --- resource groups ---------------------------------------------------------------------------------


def _rg_prepare(eng, route, new, old):
    new["properties"] = {}


# --- private link scopes -------------------------------------------------------------------------------


def _scope_prepare(eng, route, new, old):
    if old is None:
        mod = _rule("apl021")
        problem = mod.region_unavailable(new["location"]) if mod and hasattr(mod, "region_unavailable") else None
        if problem:
            raise refuse("apl021", "LocationNotAvailableForResourceType", problem, "location")
    p = new["properties"]
    p["privateLinkScopeId"] = (old or {}).get("properties", {}).get("privateLinkScopeId") or str(uuid.uuid4())
    p["privateEndpointConnections"] = (old or {}).get("properties", {}).get("privateEndpointConnections") or []
    p.setdefault("publicNetworkAccess", "Disabled")


def _mirror(eng, parent_id: str, prop: str, collection: str) -> None:
    """Copy a parent's child resources into its inline array property (ARM shows them both ways)."""
    parent = eng.store.get_obj(parent_id)
    if parent is None:
        return
    children = [eng.store.get_obj(k) for k in eng.store.list_keys(f"{parent_id.lower()}/{collection}")]
    parent.setdefault("properties", {})[prop] = [c for c in children if c]
    eng.store.put(parent_id, parent)


def mirror_scope(eng, scope_id: str) -> None:
    _mirror(eng, scope_id, "privateEndpointConnections", "privateendpointconnections")


def _pec_prepare(eng, route, new, old):
    if old is None:
        raise ArmError(404, "PrivateEndpointConnectionNotFound",
                       f"Private endpoint connection '{route.names[-1]}' was not found. Connections are created by "
                       "creating a private endpoint to the scope; then approve or reject them here.")
    state = new["properties"].get("privateLinkServiceConnectionState") or {}
    new["properties"] = {
        "privateEndpoint": old["properties"].get("privateEndpoint"),
        "privateLinkServiceConnectionState": {"status": state.get("status"),
                                              "description": state.get("description") or "",
                                              "actionsRequired": "None"},
        "provisioningState": "Succeeded",
        "groupIds": old["properties"].get("groupIds") or [cat.ARC_GROUP_ID]}


def _pec_after_put(eng, route, new, old):
    _sync_pe_state(eng, new["properties"]["privateEndpoint"]["id"], new["properties"]["privateLinkServiceConnectionState"])
    mirror_scope(eng, codec.parent_id(new["id"]))


def _pec_after_delete(eng, route, old):
    pe_id = ((old.get("properties") or {}).get("privateEndpoint") or {}).get("id")
    if pe_id:
        _sync_pe_state(eng, pe_id, {"status": "Disconnected", "description": "The connection was removed by the "
                                                                             "private link scope owner.",
                                    "actionsRequired": "None"})
    mirror_scope(eng, codec.parent_id(old["id"]))


def _sync_pe_state(eng, pe_id: str, state: dict) -> None:
    pe = eng.store.get_obj(pe_id)
    if pe is None:
        return
    p = pe.get("properties") or {}
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for c in p.get(key) or []:
            c.setdefault("properties", {})["privateLinkServiceConnectionState"] = dict(state)
    eng.store.put(pe_id, pe)


# --- private endpoints ---------------------------------------------------------------------------------


def _pe_prepare(eng, route, new, old):
    p = new["properties"]
    pe_id = new["id"]
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
    cp = conn["properties"]
    target = cp.get("privateLinkServiceId")
    parts = _arm_id_or_fail(target, f"properties.{key}[0].properties.privateLinkServiceId")
    group_ids = cp.get("groupIds") or []
    if not isinstance(group_ids, list) or not all(isinstance(g, str) for g in group_ids):
        raise bad_request("InvalidRequestContent", "'groupIds' must be an array of strings.",
                          f"properties.{key}[0].properties.groupIds")
    target_type = f"{parts['ns']}/{parts['type']}"
    served = types.lookup(target_type.lower())
    if served is not None and target_type.lower() != cat.ARC_RESOURCE_TYPE.lower() or parts["rest"]:
        raise bad_request("InvalidPrivateLinkServiceId",
                          f"'{target}' is not a private link service or a resource that offers private endpoints; for "
                          f"Azure Arc give the {cat.ARC_RESOURCE_TYPE} id.", f"properties.{key}[0].properties.privateLinkServiceId")
    mod = _rule("apl018")
    problem = mod.group_id_problem(target_type, group_ids) if mod and hasattr(mod, "group_id_problem") else None
    if problem:
        raise refuse("apl018", "PrivateEndpointBadRequest", problem, f"properties.{key}[0].properties.groupIds")
    subnet_id = (p.get("subnet") or {}).get("id")
    _arm_id_or_fail(subnet_id, "properties.subnet.id")
    subnet = eng.store.get_obj(subnet_id)
    if subnet is None or (subnet.get("type") or "").lower() != codec.T_SUBNET:
        raise _ref_missing(subnet_id, pe_id)
    vnet = eng.store.get_obj(codec.parent_id(subnet["id"]))
    mod5 = _rule("apl005")
    problem = mod5.pe_region_mismatch(new["location"], vnet.get("location"), subnet["id"], pe_id) \
        if mod5 and hasattr(mod5, "pe_region_mismatch") else None
    if problem:
        raise refuse("apl005", "InvalidResourceReference", problem, "location")
    is_arc = target_type.lower() == cat.ARC_RESOURCE_TYPE.lower()
    scope = eng.store.get_obj(target) if is_arc else None
    if is_arc and scope is None:
        raise _ref_missing(target, pe_id)
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
    # addresses and APL001 come from the model with this endpoint in it
    if is_arc:
        keep = old is not None and same and ((old.get("properties") or {}).get("subnet") or {}).get("id", "").lower() \
            == subnet["id"].lower()
        p["customDnsConfigs"] = (old["properties"].get("customDnsConfigs") if keep else None) or \
            [{"fqdn": f, "ipAddresses": [ip]} for f, ip in (hint.get("ipAddresses") or {}).items()]
        ix = candidate_index(eng, route.key, new)
        per = ix.by_id.get(pe_id.lower())
        if per is not None:
            p["customDnsConfigs"] = [{"fqdn": r.record.fqdn, "ipAddresses": [r.address]} for r in per.records]
            mod1 = _rule("apl001")
            if mod1 is not None and per.vnet is not None:
                scopes = mod1.scopes_of_vnet(per.vnet)
                if len(scopes) > 1:
                    others = ", ".join(f"'{s.name}'" for s in scopes if s is not per.scope)
                    raise refuse("apl001", "PrivateLinkScopeAlreadyAssociatedWithVirtualNetwork",
                                 f"virtual network '{per.vnet.name}' is already associated with the Azure Arc Private "
                                 f"Link Scope {others}; only one Azure Arc Private Link Scope can be associated with a "
                                 "virtual network", "properties.subnet.id")
    else:
        p.setdefault("customDnsConfigs", [])


def _pec_name(pe: dict) -> str:
    return f"{pe['name']}.{uuid.uuid5(uuid.NAMESPACE_URL, pe['id'].lower())}"


def _pe_target(pe: dict | None) -> tuple[str | None, dict]:
    p = (pe or {}).get("properties") or {}
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for c in p.get(key) or []:
            cp = c.get("properties") or {}
            return cp.get("privateLinkServiceId"), cp
    return None, {}


def _pe_after_put(eng, route, new, old):
    old_target, _ = _pe_target(old)
    target, cp = _pe_target(new)
    if old_target and (not target or old_target.lower() != target.lower()):
        eng.store.delete(f"{old_target}/privateEndpointConnections/{_pec_name(old)}")
        mirror_scope(eng, old_target)
    if not target or eng.store.get(target) is None or "/microsoft.hybridcompute/privatelinkscopes/" not in target.lower():
        return
    scope = eng.store.get_obj(target)
    name = _pec_name(new)
    pec = {"id": f"{scope['id']}/privateEndpointConnections/{name}", "name": name,
           "type": "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections",
           "properties": {"privateEndpoint": {"id": new["id"]},
                          "privateLinkServiceConnectionState": dict(cp.get("privateLinkServiceConnectionState") or {}),
                          "provisioningState": "Succeeded", "groupIds": list(cp.get("groupIds") or [])}}
    eng.store.put(pec["id"], pec)
    mirror_scope(eng, scope["id"])
    # a zone group's records follow the endpoint's addresses
    for k in eng.store.list_keys(new["id"].lower() + "/privatednszonegroups"):
        grp = eng.store.get_obj(k)
        if grp:
            _zone_group_fill(eng, grp, new)
            eng.store.put(k, grp)
            _zone_group_records(eng, grp, new)


def _pe_after_delete(eng, route, old):
    target, _ = _pe_target(old)
    if target:
        eng.store.delete(f"{target}/privateEndpointConnections/{_pec_name(old)}")
        mirror_scope(eng, target)


# --- private DNS zone groups -------------------------------------------------------------------------------


def _zone_group_prepare(eng, route, new, old):
    pe = eng.store.get_obj(codec.parent_id(new["id"]))
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
        _arm_id_or_fail(zid, f"properties.privateDnsZoneConfigs[{i}].properties.privateDnsZoneId")
        zone = eng.store.get_obj(zid)
        if zone is None or (zone.get("type") or "").lower() != codec.T_ZONE:
            raise _ref_missing(zid, new["id"])
        c["properties"]["privateDnsZoneId"] = zone["id"]
        c.setdefault("name", zone["name"].replace(".", "-"))
    _zone_group_fill(eng, new, pe)


def _zone_group_fill(eng, grp: dict, pe: dict) -> None:
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


def _zone_group_records(eng, grp: dict, pe: dict, old: dict | None = None) -> None:
    creator = _creator(pe["id"])
    wanted = set()
    for c in grp["properties"].get("privateDnsZoneConfigs") or []:
        zone = eng.store.get_obj(c["properties"]["privateDnsZoneId"])
        if zone is None:
            continue
        for rs in c["properties"].get("recordSets") or []:
            rid = f"{zone['id']}/A/{rs['recordSetName']}"
            wanted.add(rid.lower())
            fqdn = zone["name"] if rs["recordSetName"] == "@" else f"{rs['recordSetName']}.{zone['name']}"
            eng.store.put(rid, {"id": rid, "name": rs["recordSetName"], "type": "Microsoft.Network/privateDnsZones/A",
                                "etag": str(uuid.uuid4()),
                                "properties": {"metadata": {"creator": creator}, "ttl": 10, "fqdn": fqdn + ".",
                                               "aRecords": [{"ipv4Address": a} for a in rs["ipAddresses"]],
                                               "isAutoRegistered": False}})
            _zone_counts(eng, zone["id"])
    if old is not None:
        _drop_records(eng, old, creator, keep=wanted)


def _drop_records(eng, grp: dict, creator: str, keep=frozenset()) -> None:
    for c in grp["properties"].get("privateDnsZoneConfigs") or []:
        zid = c["properties"]["privateDnsZoneId"]
        for rs in c["properties"].get("recordSets") or []:
            rid = f"{zid}/A/{rs['recordSetName']}"
            rec = eng.store.get_obj(rid)
            if rid.lower() not in keep and rec and (rec.get("properties") or {}).get("metadata", {}).get("creator") == creator:
                eng.store.delete(rid)
        _zone_counts(eng, zid)


def _zone_group_after_put(eng, route, new, old):
    pe = eng.store.get_obj(codec.parent_id(new["id"]))
    _zone_group_records(eng, new, pe, old)


def _zone_group_after_delete(eng, route, old):
    _drop_records(eng, old, _creator(codec.parent_id(old["id"])))


# --- private DNS zones, links, records --------------------------------------------------------------------------


def _zone_prepare(eng, route, new, old):
    if new["name"].count(".") < 1:
        raise bad_request("InvalidResourceName", f"The zone name '{new['name']}' needs at least two labels "
                                                 "(for example privatelink.his.arc.azure.com).", "name")
    prev = (old or {}).get("properties") or {}
    new["properties"] = {"maxNumberOfRecordSets": 25000, "numberOfRecordSets": prev.get("numberOfRecordSets", 1),
                         "maxNumberOfVirtualNetworkLinks": 1000,
                         "numberOfVirtualNetworkLinks": prev.get("numberOfVirtualNetworkLinks", 0),
                         "maxNumberOfVirtualNetworkLinksWithRegistration": 100,
                         "numberOfVirtualNetworkLinksWithRegistration": prev.get(
                             "numberOfVirtualNetworkLinksWithRegistration", 0),
                         "internalId": prev.get("internalId") or str(uuid.uuid4())}


def _zone_counts(eng, zone_id: str) -> None:
    zone = eng.store.get_obj(zone_id)
    if zone is None:
        return
    zk = zone_id.lower()
    links = [eng.store.get_obj(k) for k in eng.store.list_keys(zk + "/virtualnetworklinks")]
    n_records = 1 + sum(len(eng.store.list_keys(f"{zk}/{t}")) for t in ("a", "aaaa", "cname", "mx", "ptr", "srv", "txt"))
    p = zone.setdefault("properties", {})
    counts = {"numberOfRecordSets": n_records, "numberOfVirtualNetworkLinks": len(links),
              "numberOfVirtualNetworkLinksWithRegistration": sum(
                  1 for l in links if l and (l.get("properties") or {}).get("registrationEnabled"))}
    if any(p.get(k) != v for k, v in counts.items()):
        p.update(counts)
        eng.store.put(zone_id, zone)


def _zone_before_delete(eng, route, old):
    if eng.store.list_keys(route.key + "/virtualnetworklinks"):
        raise ArmError(409, "Conflict", f"The private DNS zone '{old['name']}' cannot be deleted while it has virtual "
                                        "network links; delete the links first.")


def _link_prepare(eng, route, new, old):
    p = new["properties"]
    vid = p["virtualNetwork"]["id"]
    _arm_id_or_fail(vid, "properties.virtualNetwork.id")
    vnet = eng.store.get_obj(vid)
    if vnet is None or (vnet.get("type") or "").lower() != codec.T_VNET:
        raise _ref_missing(vid, new["id"])
    p["virtualNetwork"] = {"id": vnet["id"]}
    for k in eng.store.list_keys(codec.parent_id(new["id"]).lower() + "/virtualnetworklinks"):
        if k == route.key:
            continue
        other = eng.store.get_obj(k) or {}
        if ((other.get("properties") or {}).get("virtualNetwork") or {}).get("id", "").lower() == vnet["id"].lower():
            raise ArmError(409, "Conflict", f"A virtual network cannot be linked to the same private DNS zone twice: "
                                            f"'{vnet['name']}' is already linked by '{other.get('name')}'.")
    p["virtualNetworkLinkState"] = "Completed"


def _record_prepare(eng, route, new, old):
    zone = eng.store.get_obj(codec.parent_id(new["id"]))
    p = new["properties"]
    p.setdefault("ttl", 3600)
    p["fqdn"] = (zone["name"] if new["name"] == "@" else f"{new['name']}.{zone['name']}") + "."
    p["isAutoRegistered"] = False
    p.setdefault("metadata", {})
    for key, field, parse, kind in (("aRecords", "ipv4Address", ipaddress.IPv4Address, "IPv4"),
                                    ("aaaaRecords", "ipv6Address", ipaddress.IPv6Address, "IPv6")):
        for i, a in enumerate(p.get(key) or []):
            try:
                parse((a or {}).get(field))
            except (ValueError, AttributeError):
                raise bad_request("InvalidRequestContent", f"{key}[{i}].{field} is not an {kind} address.",
                                  f"properties.{key}[{i}].{field}") from None


# --- virtual networks, subnets, NSGs ----------------------------------------------------------------------------


def _cidr(value, path: str):
    if not isinstance(value, str):
        raise bad_request("InvalidAddressPrefixFormat", f"Address prefix at '{path}' must be a string such as "
                                                        "10.0.1.0/24.", path)
    try:
        return ipaddress.ip_network(value, strict=True)
    except (ValueError, TypeError):
        raise bad_request("InvalidAddressPrefixFormat", f"Address prefix '{value}' at '{path}' is not a valid CIDR "
                                                        "(use the network address, e.g. 10.0.1.0/24).", path) from None


def _subnet_props(eng, sp: dict, vnet_nets: list, name: str, vnet_name: str, path: str) -> dict:
    prefixes = sp.get("addressPrefixes")
    if prefixes is not None and (not isinstance(prefixes, list) or not prefixes):
        raise bad_request("InvalidRequestContent", f"'{path}.addressPrefixes' must be a non-empty array.", path)
    prefix = sp.get("addressPrefix") or (prefixes or [None])[0]
    net = _cidr(prefix, path + ".addressPrefix")
    if not any(net.version == n.version and net.subnet_of(n) for n in vnet_nets):
        raise bad_request("NetcfgSubnetRangeOutsideVnet", f"Subnet '{name}' is not valid because its IP address range "
                                                          f"{prefix} is outside the IP address range of virtual network "
                                                          f"'{vnet_name}'.", path)
    if sp.get("networkSecurityGroup") is not None and not isinstance(sp["networkSecurityGroup"], dict):
        raise bad_request("InvalidRequestContent", f"'{path}.networkSecurityGroup' must be an object with an id.", path)
    nsg = (sp.get("networkSecurityGroup") or {}).get("id")
    if nsg:
        _arm_id_or_fail(nsg, path + ".networkSecurityGroup.id")
        obj = eng.store.get_obj(nsg)
        if obj is None:
            raise _ref_missing(nsg, name)
        sp["networkSecurityGroup"] = {"id": obj["id"]}
    sp.setdefault("privateEndpointNetworkPolicies", "Disabled")
    sp.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
    sp["provisioningState"] = "Succeeded"
    return sp


def _vnet_nets(vnet: dict) -> list:
    prefixes = ((vnet.get("properties") or {}).get("addressSpace") or {}).get("addressPrefixes")
    if not isinstance(prefixes, list) or not prefixes:
        raise bad_request("InvalidRequestContent", "A virtual network needs properties.addressSpace.addressPrefixes "
                                                   "with at least one prefix.", "properties.addressSpace.addressPrefixes")
    return [_cidr(a, f"properties.addressSpace.addressPrefixes[{i}]") for i, a in enumerate(prefixes)]


def _vnet_prepare(eng, route, new, old):
    nets = _vnet_nets(new)
    p = new["properties"]
    p["resourceGuid"] = (old or {}).get("properties", {}).get("resourceGuid") or str(uuid.uuid4())
    subnets = p.get("subnets") or []
    names = set()
    out = []
    for i, s in enumerate(subnets):
        if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not s["name"] \
                or not isinstance(s.get("properties") or {}, dict):
            raise bad_request("InvalidRequestContent", f"properties.subnets[{i}] needs a name and an object 'properties'.",
                              f"properties.subnets[{i}]")
        if not types.NETWORK_NAME.match(s["name"]):
            raise bad_request("InvalidResourceName", f"The subnet name '{s['name']}' is invalid.", f"properties.subnets[{i}].name")
        if s["name"].lower() in names:
            raise bad_request("DuplicateResourceName", f"Subnet '{s['name']}' is listed twice.", f"properties.subnets[{i}]")
        names.add(s["name"].lower())
        from arclink.arm.engine import validate_body

        inline = {"properties": dict(s.get("properties") or {})}
        try:
            validate_body(types.lookup(codec.T_SUBNET), inline, None)
        except ArmError as exc:
            exc.target = f"properties.subnets[{i}].{exc.target or 'properties'}"
            raise
        s = {**s, "properties": inline["properties"]}
        sp = _subnet_props(eng, dict(s.get("properties") or {}), nets, s["name"], new["name"], f"properties.subnets[{i}].properties")
        sid = f"{new['id']}/subnets/{s['name']}"
        old_sub = eng.store.get_obj(sid)
        out.append({"id": old_sub["id"] if old_sub else sid, "name": old_sub["name"] if old_sub else s["name"],
                    "type": "Microsoft.Network/virtualNetworks/subnets", "etag": f'W/"{uuid.uuid4()}"', "properties": sp})
    if old is not None:
        for k in eng.store.list_keys(route.key + "/subnets"):
            if k.rsplit("/", 1)[-1] not in names:
                _subnet_in_use(eng, k)
    p["subnets"] = out
    children = _peerings_of(eng, new["id"]) if old is not None else []
    if children:  # peerings are managed as child resources once they exist
        p["virtualNetworkPeerings"] = children
    else:
        inline = p.get("virtualNetworkPeerings") or []
        if not isinstance(inline, list) or not all(isinstance(x, dict) for x in inline):
            raise bad_request("InvalidRequestContent", "properties.virtualNetworkPeerings must be an array of objects.",
                              "properties.virtualNetworkPeerings")
        p["virtualNetworkPeerings"] = inline
    p.setdefault("enableDdosProtection", False)


def _sync_children(eng, parent_key: str, collection: str, children: list) -> None:
    """Store the inline children as child resources and drop the stored ones the parent no longer lists."""
    keep = set()
    for child in children:
        eng.store.put(child["id"], child)
        keep.add(child["id"].lower())
    for k in eng.store.list_keys(f"{parent_key}/{collection}"):
        if k not in keep:
            eng.store.delete(k)


def _vnet_after_put(eng, route, new, old):
    _sync_children(eng, route.key, "subnets", new["properties"]["subnets"])


def _subnet_in_use(eng, subnet_key: str) -> None:
    for k in list(eng.store.bodies):
        if "/providers/microsoft.network/privateendpoints/" in k and k.count("/") == 8:
            pe = eng.store.get_obj(k) or {}
            if ((pe.get("properties") or {}).get("subnet") or {}).get("id", "").lower() == subnet_key:
                raise bad_request("InUseSubnetCannotBeDeleted", f"Subnet {subnet_key.rsplit('/', 1)[-1]} is in use by "
                                                                f"{pe.get('id')} and cannot be deleted. Delete the "
                                                                "private endpoint first.")


def _subnet_prepare(eng, route, new, old):
    vnet = eng.store.get_obj(codec.parent_id(new["id"]))
    nets = _vnet_nets(vnet)
    new["properties"] = _subnet_props(eng, new["properties"], nets, new["name"], vnet["name"], "properties")
    new.pop("location", None)
    new.pop("tags", None)


def _subnet_after_put(eng, route, new, old):
    _mirror_vnet(eng, codec.parent_id(new["id"]))


def _mirror_vnet(eng, vnet_id: str) -> None:
    _mirror(eng, vnet_id, "subnets", "subnets")


def _subnet_before_delete(eng, route, old):
    _subnet_in_use(eng, route.key)


def _subnet_after_delete(eng, route, old):
    _mirror_vnet(eng, codec.parent_id(old["id"]))


T_PEERING = "microsoft.network/virtualnetworks/virtualnetworkpeerings"


def _peerings_of(eng, vnet_id: str) -> list[dict]:
    return [o for k in eng.store.list_keys(vnet_id.lower() + "/virtualnetworkpeerings") if (o := eng.store.get_obj(k))]


def _peering_back(eng, remote_id: str, vnet_id: str) -> dict | None:
    for o in _peerings_of(eng, remote_id):
        if ((o.get("properties") or {}).get("remoteVirtualNetwork") or {}).get("id", "").lower() == vnet_id.lower():
            return o
    return None


def _peering_prepare(eng, route, new, old):
    p = new["properties"]
    rid = p["remoteVirtualNetwork"]["id"]
    _arm_id_or_fail(rid, "properties.remoteVirtualNetwork.id")
    remote = eng.store.get_obj(rid)
    vnet_id = codec.parent_id(new["id"])
    if remote is None or (remote.get("type") or "").lower() != codec.T_VNET:
        raise _ref_missing(rid, new["id"])
    if remote["id"].lower() == vnet_id.lower():
        raise bad_request("InvalidRequestContent", "A virtual network cannot be peered with itself.",
                          "properties.remoteVirtualNetwork.id")
    p["remoteVirtualNetwork"] = {"id": remote["id"]}
    # Azure: Initiated until the remote side peers back, then Connected on both sides
    p["peeringState"] = "Connected" if _peering_back(eng, remote["id"], vnet_id) else "Initiated"
    p["peeringSyncLevel"] = "FullyInSync"
    p["resourceGuid"] = (old or {}).get("properties", {}).get("resourceGuid") or str(uuid.uuid4())
    new.pop("location", None)
    new.pop("tags", None)


def _peering_after_put(eng, route, new, old):
    vnet_id = codec.parent_id(new["id"])
    remote_id = new["properties"]["remoteVirtualNetwork"]["id"]
    back = _peering_back(eng, remote_id, vnet_id)
    if back is not None and back["properties"].get("peeringState") != "Connected":
        back["properties"]["peeringState"] = "Connected"
        eng.store.put(back["id"], back)
        _mirror_peerings(eng, remote_id)
    _mirror_peerings(eng, vnet_id)


def _peering_after_delete(eng, route, old):
    vnet_id = codec.parent_id(old["id"])
    remote_id = ((old.get("properties") or {}).get("remoteVirtualNetwork") or {}).get("id")
    back = _peering_back(eng, remote_id, vnet_id) if remote_id else None
    if back is not None:
        back["properties"]["peeringState"] = "Disconnected"
        eng.store.put(back["id"], back)
        _mirror_peerings(eng, remote_id)
    _mirror_peerings(eng, vnet_id)


def _mirror_peerings(eng, vnet_id: str) -> None:
    _mirror(eng, vnet_id, "virtualNetworkPeerings", "virtualnetworkpeerings")


def _vnet_before_delete(eng, route, old):
    for k in eng.store.list_keys(route.key + "/subnets"):
        _subnet_in_use(eng, k)


T_RULE = "microsoft.network/networksecuritygroups/securityrules"
_RULE_ENUMS = {"protocol": ("Tcp", "Udp", "Icmp", "Esp", "*", "Ah"), "access": ("Allow", "Deny"),
               "direction": ("Inbound", "Outbound")}
_DEFAULT_RULES = (("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
                  ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
                  ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
                  ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
                  ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
                  ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"))


def _check_rule(r: dict, path: str, seen: dict) -> dict:
    """One security rule, validated and completed (ARM's enums, priority range, one priority per direction)."""
    if not isinstance(r, dict) or not isinstance(r.get("properties"), dict) or not isinstance(r.get("name"), str) \
            or not r["name"]:
        raise bad_request("InvalidRequestContent", f"{path} needs a name and properties.", path)
    from arclink.arm.engine import validate_body

    body = {"properties": dict(r["properties"])}
    try:
        validate_body(types.lookup("microsoft.network/networksecuritygroups/securityrules"), body, None)
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


def _nsg_prepare(eng, route, new, old):
    p = new["properties"]
    seen: dict = {}
    rules = []
    names = set()
    for i, r in enumerate(p.get("securityRules") or []):
        path = f"properties.securityRules[{i}]"
        rp = _check_rule(r, path, seen)
        if r["name"].lower() in names:
            raise bad_request("DuplicateResourceName", f"Security rule '{r['name']}' is listed twice.", path)
        names.add(r["name"].lower())
        rules.append({"name": r["name"], "id": f"{new['id']}/securityRules/{r['name']}",
                      "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                      "etag": f'W/"{uuid.uuid4()}"', "properties": rp})
    p["securityRules"] = rules
    p["resourceGuid"] = (old or {}).get("properties", {}).get("resourceGuid") or str(uuid.uuid4())
    p["defaultSecurityRules"] = [
        {"name": n, "id": f"{new['id']}/defaultSecurityRules/{n}",
         "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
         "properties": {"priority": pr, "direction": d, "access": a, "protocol": "*", "sourceAddressPrefix": s,
                        "sourcePortRange": "*", "destinationAddressPrefix": t, "destinationPortRange": "*",
                        "provisioningState": "Succeeded"}} for n, pr, d, a, s, t in _DEFAULT_RULES]


def _nsg_after_put(eng, route, new, old):
    _sync_children(eng, route.key, "securityrules", new["properties"]["securityRules"])


def _rule_prepare(eng, route, new, old):
    nsg_id = codec.parent_id(new["id"])
    seen = {}
    for k in eng.store.list_keys(nsg_id.lower() + "/securityrules"):
        if k != route.key:
            other = eng.store.get_obj(k) or {}
            op = other.get("properties") or {}
            seen[(op.get("direction"), op.get("priority"))] = other.get("name")
    new["properties"] = _check_rule({"name": new["name"], "properties": new["properties"]}, "", seen)
    new.pop("location", None)
    new.pop("tags", None)


def _mirror_nsg(eng, nsg_id: str) -> None:
    _mirror(eng, nsg_id, "securityRules", "securityrules")


def _rule_after_put(eng, route, new, old):
    _mirror_nsg(eng, codec.parent_id(new["id"]))


def _rule_after_delete(eng, route, old):
    _mirror_nsg(eng, codec.parent_id(old["id"]))


# --- connected clusters and extensions ------------------------------------------------------------------------------


def _features(props: dict) -> list[str]:
    return [c.get("feature") for c in props.get("arcAgentryConfigurations") or []
            if isinstance(c, dict) and isinstance(c.get("feature"), str)]


def _cluster_prepare(eng, route, new, old):
    p = new["properties"]
    state = p.get("privateLinkState") or "Disabled"
    ref = p.get("privateLinkScopeResourceId")
    if state == "Enabled":
        mod21 = _rule("apl021")
        problem = mod21.region_unavailable(new["location"]) if mod21 and hasattr(mod21, "region_unavailable") else None
        if problem:
            raise refuse("apl021", "LocationNotAvailableForResourceType", problem, "location")
    # Enabled without a scope is accepted (the spec does not require it): such a cluster is refused
    # by the gateway (ClusterNotAssociatedWithScope), as the seed says.
    if ref:
        parts = _arm_id_or_fail(ref, "properties.privateLinkScopeResourceId")
        if f"{parts['ns']}/{parts['type']}".lower() != cat.ARC_RESOURCE_TYPE.lower():
            raise bad_request("LinkedInvalidPropertyId", f"'{ref}' is not a {cat.ARC_RESOURCE_TYPE} resource id.",
                              "properties.privateLinkScopeResourceId")
        scope = eng.store.get_obj(ref)
        if scope is None:
            raise bad_request("LinkedResourceNotFound", f"The Azure Arc Private Link Scope '{ref}' was not found; create "
                                                        "it first or correct the id.", "properties.privateLinkScopeResourceId")
        p["privateLinkScopeResourceId"] = scope["id"]
        if state == "Enabled":
            mod4 = _rule("apl004")
            problem = mod4.region_mismatch(new["location"], scope.get("location")) if mod4 else None
            if problem:
                raise refuse("apl004", "PrivateLinkScopeLocationMismatch", problem, "location")
    mod12 = _rule("apl012")
    problem = mod12.feature_error(state, _features(p)) if mod12 and hasattr(mod12, "feature_error") else None
    if problem:
        raise refuse("apl012", "FeatureNotSupportedWithPrivateLink", problem, "properties.arcAgentryConfigurations")
    prev = (old or {}).get("properties") or {}
    ident = new.get("identity") or {"type": "SystemAssigned"}
    if ident.get("type") == "SystemAssigned":
        oi = (old or {}).get("identity") or {}
        ident["principalId"] = oi.get("principalId") or str(uuid.uuid4())
        ident["tenantId"] = oi.get("tenantId") or eng.store.meta.get("tenant") or str(uuid.uuid4())
    new["identity"] = ident
    p["connectivityStatus"] = prev.get("connectivityStatus") or "Connecting"
    for k in ("kubernetesVersion", "agentVersion", "totalNodeCount", "totalCoreCount", "lastConnectivityTime"):
        if k in prev:
            p[k] = prev[k]
    p.setdefault("miscellaneousProperties", prev.get("miscellaneousProperties") or {})


def _extension_prepare(eng, route, new, old):
    cluster = eng.store.get_obj(route.parent_id)
    p = new["properties"]
    cp = (cluster or {}).get("properties") or {}
    mod12 = _rule("apl012")
    problem = mod12.extension_error(cp.get("privateLinkState"), p.get("extensionType") or "") \
        if mod12 and hasattr(mod12, "extension_error") else None
    if problem:
        raise refuse("apl012", "FeatureNotSupportedWithPrivateLink", problem, "properties.extensionType")
    if old is not None and (old.get("properties") or {}).get("extensionType", "").lower() != (p.get("extensionType") or "").lower():
        raise bad_request("PropertyChangeNotAllowed", "The extensionType of an existing extension cannot be changed; "
                                                      "delete it and create a new one.", "properties.extensionType")
    p.pop("configurationProtectedSettings", None)
    p.setdefault("autoUpgradeMode", "compatible")
    p["currentVersion"] = p.get("version") or (old or {}).get("properties", {}).get("currentVersion") or "1.0.0"
    p["isSystemExtension"] = False
    p["statuses"] = []
    p.setdefault("scope", {"cluster": {"releaseNamespace": "arc-extensions"}})


_PREPARE = {codec.T_RG: _rg_prepare, codec.T_SCOPE: _scope_prepare, codec.T_PEC: _pec_prepare,
            codec.T_PE: _pe_prepare, codec.T_ZONE_GROUP: _zone_group_prepare, codec.T_ZONE: _zone_prepare,
            codec.T_LINK: _link_prepare, codec.T_VNET: _vnet_prepare, codec.T_SUBNET: _subnet_prepare,
            codec.T_NSG: _nsg_prepare, codec.T_CLUSTER: _cluster_prepare, codec.T_EXTENSION: _extension_prepare,
            T_RULE: _rule_prepare, T_PEERING: _peering_prepare}
_AFTER_PUT = {codec.T_PEC: _pec_after_put, codec.T_PE: _pe_after_put, codec.T_ZONE_GROUP: _zone_group_after_put,
              codec.T_VNET: _vnet_after_put, codec.T_SUBNET: _subnet_after_put, codec.T_NSG: _nsg_after_put,
              T_RULE: _rule_after_put, T_PEERING: _peering_after_put}
_BEFORE_DELETE = {codec.T_ZONE: _zone_before_delete, codec.T_SUBNET: _subnet_before_delete,
                  codec.T_VNET: _vnet_before_delete}
_AFTER_DELETE = {codec.T_PEC: _pec_after_delete, codec.T_PE: _pe_after_delete,
                 codec.T_ZONE_GROUP: _zone_group_after_delete, codec.T_SUBNET: _subnet_after_delete,
                 T_RULE: _rule_after_delete, T_PEERING: _peering_after_delete}
