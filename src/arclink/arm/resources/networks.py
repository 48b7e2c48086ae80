"""Virtual networks, their subnets and peerings.

Subnets are both inline in the VNet's body and child resources (ARM shows them both
ways, and a VNet PUT replaces them); a subnet in use by a private endpoint cannot be
deleted. A peering is Initiated until the remote VNet peers back, then Connected.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from arclink.arm import types
from arclink.arm.errors import ArmError, bad_request
from arclink.arm.model_view import onprem_of
from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.resources import nics
from arclink.arm.resources.common import arm_id_or_fail, mirror, ref_missing, sync_children, type_of
from arclink.arm.routes import Route
from arclink.arm.validation import validate_body
from arclink.model import address_space
from arclink.model import arm_codec as codec
from arclink.model import transit
from arclink.model.rules import Rule

ENFORCES: tuple[Rule, ...] = ()
T_PEERING = "microsoft.network/virtualnetworks/virtualnetworkpeerings"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _cidr(value: Any, path: str) -> Network:
    if not isinstance(value, str):
        raise bad_request("InvalidAddressPrefixFormat", f"Address prefix at '{path}' must be a string such as "
                                                        "10.0.1.0/24.", path)
    try:
        return ipaddress.ip_network(value, strict=True)
    except (ValueError, TypeError):
        raise bad_request("InvalidAddressPrefixFormat", f"Address prefix '{value}' at '{path}' is not a valid CIDR "
                                                        "(use the network address, e.g. 10.0.1.0/24).", path) from None


def _subnet_props(store: ResourceStore, sp: Body, vnet_nets: list[Network], name: str, vnet_name: str,
                  path: str) -> Body:
    prefixes = sp.get("addressPrefixes")
    if prefixes is not None and (not isinstance(prefixes, list) or not prefixes):
        raise bad_request("InvalidRequestContent", f"'{path}.addressPrefixes' must be a non-empty array.", path)
    prefix = sp.get("addressPrefix") or (prefixes or [None])[0]
    net = _cidr(prefix, path + ".addressPrefix")
    if not any(net.version == n.version and net.subnet_of(n) for n in vnet_nets):  # type: ignore[arg-type]
        raise bad_request("NetcfgSubnetRangeOutsideVnet", f"Subnet '{name}' is not valid because its IP address range "
                                                          f"{prefix} is outside the IP address range of virtual network "
                                                          f"'{vnet_name}'.", path)
    if sp.get("networkSecurityGroup") is not None and not isinstance(sp["networkSecurityGroup"], dict):
        raise bad_request("InvalidRequestContent", f"'{path}.networkSecurityGroup' must be an object with an id.", path)
    nsg = (sp.get("networkSecurityGroup") or {}).get("id")
    if nsg:
        arm_id_or_fail(nsg, path + ".networkSecurityGroup.id")
        obj = store.get_obj(nsg)
        if obj is None:
            raise ref_missing(nsg, name)
        sp["networkSecurityGroup"] = {"id": obj["id"]}
    sp.setdefault("privateEndpointNetworkPolicies", "Disabled")
    sp.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
    sp["provisioningState"] = "Succeeded"
    return sp


def _refuse_subnet_overlap(sp: Body, name: str, others: list[tuple[str, Network]], vnet_name: str, path: str) -> None:
    """Azure's NetcfgSubnetRangesOverlap, decided by ``model.address_space.subnet_clash``."""
    prefix = sp.get("addressPrefix") or (sp.get("addressPrefixes") or [None])[0]
    clash = address_space.subnet_clash(ipaddress.ip_network(prefix), others)
    if clash is not None:
        raise bad_request(address_space.SUBNETS_OVERLAP, f"Subnet '{name}' is not valid because its IP address range "
                                                         f"overlaps with that of an existing subnet '{clash}' in virtual "
                                                         f"network '{vnet_name}'.", path)


def _subnet_net(body: Body | None) -> Network | None:
    sp = (body or {}).get("properties") or {}
    prefix = sp.get("addressPrefix") or (sp.get("addressPrefixes") or [None])[0]
    try:
        return ipaddress.ip_network(prefix) if isinstance(prefix, str) else None
    except ValueError:
        return None


def _vnet_nets(vnet: Body) -> list[Network]:
    prefixes = ((vnet.get("properties") or {}).get("addressSpace") or {}).get("addressPrefixes")
    if not isinstance(prefixes, list) or not prefixes:
        raise bad_request("InvalidRequestContent", "A virtual network needs properties.addressSpace.addressPrefixes "
                                                   "with at least one prefix.", "properties.addressSpace.addressPrefixes")
    return [_cidr(a, f"properties.addressSpace.addressPrefixes[{i}]") for i, a in enumerate(prefixes)]


def _inline_subnet(store: ResourceStore, new: Body, s: Any, i: int, names: set[str], nets: list[Network]) -> Body:
    """One subnet of a VNet's body, checked and completed as the child resource it becomes."""
    if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not s["name"] \
            or not isinstance(s.get("properties") or {}, dict):
        raise bad_request("InvalidRequestContent", f"properties.subnets[{i}] needs a name and an object 'properties'.",
                          f"properties.subnets[{i}]")
    if not types.NETWORK_NAME.fullmatch(s["name"]):
        raise bad_request("InvalidResourceName", f"The subnet name '{s['name']}' is invalid.", f"properties.subnets[{i}].name")
    if s["name"].lower() in names:
        raise bad_request("DuplicateResourceName", f"Subnet '{s['name']}' is listed twice.", f"properties.subnets[{i}]")
    names.add(s["name"].lower())
    inline = {"properties": dict(s.get("properties") or {})}
    sid = f"{new['id']}/subnets/{s['name']}"
    old_sub = store.get_obj(sid)
    try:  # read-only back-references copied from a GET are accepted unchanged
        validate_body(types.T[codec.T_SUBNET], inline, old_sub)
    except ArmError as exc:
        exc.target = f"properties.subnets[{i}].{exc.target or 'properties'}"
        raise
    sp = _subnet_props(store, dict(inline["properties"]), nets, s["name"], new["name"],
                       f"properties.subnets[{i}].properties")
    body = {"id": old_sub["id"] if old_sub else sid, "name": old_sub["name"] if old_sub else s["name"],
            "type": "Microsoft.Network/virtualNetworks/subnets", "etag": f'W/"{uuid.uuid4()}"', "properties": sp}
    nics.fill_subnet(store, body)
    return body


def _vnet_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    nets = _vnet_nets(new)
    p = new["properties"]
    p["resourceGuid"] = (old or {}).get("properties", {}).get("resourceGuid") or str(uuid.uuid4())
    names: set[str] = set()
    out = [_inline_subnet(store, new, s, i, names, nets) for i, s in enumerate(p.get("subnets") or [])]
    for i, sub in enumerate(out):
        _refuse_subnet_overlap(sub["properties"], sub["name"], [(o["name"], n) for o in out[:i] if (n := _subnet_net(o))],
                               new["name"], f"properties.subnets[{i}].properties.addressPrefix")
    if old is not None:
        for k in store.list_keys(route.key + "/subnets"):
            if k.rsplit("/", 1)[-1] not in names:
                _subnet_in_use(store, k)
    p["subnets"] = out
    # peerings written inline become child resources, checked as a peering PUT is; the stored ones stay
    # (a body from a GET lists them, one without them does not remove them)
    children = _peerings_of(store, new["id"]) if old is not None else []
    inline = p.get("virtualNetworkPeerings") or []
    if not isinstance(inline, list) or not all(isinstance(x, dict) for x in inline):
        raise bad_request("InvalidRequestContent", "properties.virtualNetworkPeerings must be an array of objects.",
                          "properties.virtualNetworkPeerings")
    for i, peering in enumerate(inline):
        _inline_peering_shape(peering, f"properties.virtualNetworkPeerings[{i}]")
    have = {c["name"].lower() for c in children}
    p["virtualNetworkPeerings"] = children + [_inline_peering(store, new, x, i) for i, x in enumerate(inline)
                                              if str(x.get("name") or "").lower() not in have]
    p.setdefault("enableDdosProtection", False)


def _inline_peering(store: ResourceStore, vnet: Body, item: Body, i: int) -> Body:
    path = f"properties.virtualNetworkPeerings[{i}]"
    name = item.get("name")
    if not isinstance(name, str) or not types.NETWORK_NAME.fullmatch(name) or not isinstance(item.get("properties"), dict):
        raise bad_request("InvalidRequestContent", f"{path} needs a valid name and an object 'properties'.", path)
    rtype = types.T[T_PEERING]
    body: Body = {"properties": {k: v for k, v in item["properties"].items()
                                 if k not in ("peeringState", "peeringSyncLevel", "provisioningState", "resourceGuid")}}
    for dotted, value in rtype.defaults.items():
        body["properties"].setdefault(dotted.split(".", 1)[1], value)
    try:
        validate_body(rtype, body, None)
    except ArmError as exc:
        exc.target = f"{path}.{exc.target or 'properties'}"
        raise
    pid = f"{vnet['id']}/virtualNetworkPeerings/{name}"
    peering: Body = {"id": pid, "name": name, "type": rtype.type, "etag": f'W/"{uuid.uuid4()}"',
                     "properties": body["properties"]}
    _peering_prepare(store, Route("resource", id=pid), peering, None, local=vnet)
    peering["properties"]["provisioningState"] = "Succeeded"
    return peering


def _vnet_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    old_subnets = [store.get_obj(k) for k in store.list_keys(route.key + "/subnets")]
    sync_children(store, route.key, "subnets", new["properties"]["subnets"])
    nics.refresh_nsgs(store, nics.nsgs_of(*old_subnets, *new["properties"]["subnets"]))
    for peering in new["properties"].get("virtualNetworkPeerings") or []:
        if store.get(peering["id"]) is None:
            store.put(peering["id"], peering)
            _peering_after_put(store, Route("resource", id=peering["id"]), peering, None)


def _vnet_before_delete(store: ResourceStore, route: Route, old: Body) -> None:
    for k in store.list_keys(route.key + "/subnets"):
        _subnet_in_use(store, k)


def _subnet_in_use(store: ResourceStore, subnet_key: str) -> None:
    for k in list(store.bodies):
        if "/providers/microsoft.network/privateendpoints/" in k and k.count("/") == 8:
            pe = store.get_obj(k) or {}
            if ((pe.get("properties") or {}).get("subnet") or {}).get("id", "").lower() == subnet_key:
                raise bad_request("InUseSubnetCannotBeDeleted", f"Subnet {subnet_key.rsplit('/', 1)[-1]} is in use by "
                                                                f"{pe.get('id')} and cannot be deleted. Delete the "
                                                                "private endpoint first.")


def _subnet_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    vnet = store.get_obj(codec.parent_id(new["id"])) or {}
    nets = _vnet_nets(vnet)
    new["properties"] = _subnet_props(store, new["properties"], nets, new["name"], vnet["name"], "properties")
    siblings = [o for k in store.list_keys(codec.parent_id(new["id"]).lower() + "/subnets")
                if (o := store.get_obj(k)) and o["name"].lower() != new["name"].lower()]
    _refuse_subnet_overlap(new["properties"], new["name"], [(o["name"], n) for o in siblings if (n := _subnet_net(o))],
                           vnet["name"], "properties.addressPrefix")
    nics.fill_subnet(store, new)
    new.pop("location", None)
    new.pop("tags", None)


def _mirror_vnet(store: ResourceStore, vnet_id: str) -> None:
    mirror(store, vnet_id, "subnets", "subnets")


def _subnet_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    _mirror_vnet(store, codec.parent_id(new["id"]))
    nics.refresh_nsgs(store, nics.nsgs_of(old, new))


def _subnet_before_delete(store: ResourceStore, route: Route, old: Body) -> None:
    _subnet_in_use(store, route.key)


def _subnet_after_delete(store: ResourceStore, route: Route, old: Body) -> None:
    _mirror_vnet(store, codec.parent_id(old["id"]))
    nics.refresh_nsgs(store, nics.nsgs_of(old))


# --- peerings -----------------------------------------------------------------------------------------------


def _inline_peering_shape(peering: Body, at: str) -> None:
    """An inline peering names its remote network by an id string (the model reads it as one)."""
    props = peering.get("properties")
    remote = props.get("remoteVirtualNetwork") if isinstance(props, dict) else None
    if props is not None and not isinstance(props, dict) or remote is not None and (
            not isinstance(remote, dict) or not isinstance(remote.get("id"), str)):
        raise bad_request("InvalidRequestContent", f"The request content was invalid and could not be deserialized: "
                                                   f"'{at}.properties.remoteVirtualNetwork.id' must be a string.",
                          f"{at}.properties.remoteVirtualNetwork.id")


def _peerings_of(store: ResourceStore, vnet_id: str) -> list[Body]:
    return [o for k in store.list_keys(vnet_id.lower() + "/virtualnetworkpeerings") if (o := store.get_obj(k))]


def _peering_back(store: ResourceStore, remote_id: str, vnet_id: str) -> Body | None:
    for o in _peerings_of(store, remote_id):
        if ((o.get("properties") or {}).get("remoteVirtualNetwork") or {}).get("id", "").lower() == vnet_id.lower():
            return o
    return None


def _mirror_peerings(store: ResourceStore, vnet_id: str) -> None:
    mirror(store, vnet_id, "virtualNetworkPeerings", "virtualnetworkpeerings")


def _has_gateway(store: ResourceStore, vnet: Body) -> bool:
    """Whether a VNet has a virtual network gateway. The emulator keeps no gateway resources: a VNet
    has one when it holds a ``GatewaySubnet`` (where Azure puts gateways) or when an on-premises
    site lands on it over VPN or ExpressRoute (the control API's sites), which needs a gateway."""
    subnets = (vnet.get("properties") or {}).get("subnets") or []
    if any(str(s.get("name") or "").lower() == "gatewaysubnet" for s in subnets if isinstance(s, dict)):
        return True
    names = {vnet["id"].lower(), str(vnet.get("name") or "").lower()}
    sites = onprem_of(store).get("sites") or {}
    return any(str(c.get("virtualNetwork") or "").lower() in names
               for site in sites.values() if isinstance(site, dict)
               for c in site.get("connections") or [] if isinstance(c, dict))


def _peers_of(store: ResourceStore, vnet_id: str, but: str) -> list[tuple[str, list[Network]]]:
    """(id, address space) of the VNets ``vnet_id`` is peered with, except ``but``."""
    out = []
    for o in _peerings_of(store, vnet_id):
        rid = ((o.get("properties") or {}).get("remoteVirtualNetwork") or {}).get("id", "")
        body = store.get_obj(rid) if rid and rid.lower() != but.lower() else None
        if body is not None:
            out.append((body["id"], _vnet_nets(body)))
    return out


def _refuse_peered_overlap(store: ResourceStore, peering_id: str, local: Body, remote: Body) -> None:
    """Azure's refusals of a peering whose address spaces overlap, decided by ``model.address_space``."""
    if not local:
        return
    found = address_space.peering_overlap(_vnet_nets(local), _vnet_nets(remote),
                                          _peers_of(store, local["id"], remote["id"]),
                                          _peers_of(store, remote["id"], local["id"]))
    if found is None:
        return
    head = f"Cannot create or update peering {peering_id}. Virtual networks {local['id']} and {remote['id']} cannot be peered"
    prefixes = ", ".join(found.prefixes)
    if found.code == address_space.PEERED_SPACES_OVERLAP:
        text = f"{head} because their address spaces overlap. Overlapping address prefixes: {prefixes}."
    else:
        first, second = ("second", "first") if found.second else ("first", "second")
        text = (f"{head} because address space of the {first} virtual network overlaps with address space of virtual "
                f"network {found.other} already peered with the {second} virtual network. Overlapping address "
                f"prefixes: {prefixes}.")
    raise bad_request(found.code, text, "properties.remoteVirtualNetwork.id")


def _peering_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None, local: Body | None = None) -> None:
    """``local``: the VNet's body when the peering comes inline in it (the stored one otherwise)."""
    p = new["properties"]
    rid = p["remoteVirtualNetwork"]["id"]
    arm_id_or_fail(rid, "properties.remoteVirtualNetwork.id")
    remote = store.get_obj(rid)
    vnet_id = codec.parent_id(new["id"])
    if remote is None or type_of(remote) != codec.T_VNET:
        raise ref_missing(rid, new["id"])
    if remote["id"].lower() == vnet_id.lower():
        raise bad_request("InvalidRequestContent", "A virtual network cannot be peered with itself.",
                          "properties.remoteVirtualNetwork.id")
    _refuse_peered_overlap(store, new["id"], local or store.get_obj(vnet_id) or {}, remote)
    if p.get("useRemoteGateways") is True and not _has_gateway(store, remote):
        raise bad_request("RemoteVnetHasNoGateways", f"Peering {new['id']} cannot have UseRemoteGateways flag set to "
                                                     f"true because remote virtual network {remote['id']} referenced "
                                                     "by the peering does not have any gateways.",
                          "properties.useRemoteGateways")
    if p.get("useRemoteGateways") is True:
        _refuse_second_remote_gateway(store, new["id"], local or store.get_obj(vnet_id) or {})
    p["remoteVirtualNetwork"] = {"id": remote["id"]}
    # Azure: Initiated until the remote side peers back, then Connected on both sides
    p["peeringState"] = "Connected" if _peering_back(store, remote["id"], vnet_id) else "Initiated"
    p["peeringSyncLevel"] = "FullyInSync"
    p["resourceGuid"] = (old or {}).get("properties", {}).get("resourceGuid") or str(uuid.uuid4())
    new.pop("location", None)
    new.pop("tags", None)


def _refuse_second_remote_gateway(store: ResourceStore, peering_id: str, local: Body) -> None:
    """useRemoteGateways where the VNet has a gateway or another peering already uses one: refused
    as ``model.transit.remote_gateway_problem`` decides (the loader asks it too)."""
    if not local:
        return
    others = [o["name"] for o in _peerings_of(store, local["id"])
              if o["id"].lower() != peering_id.lower() and (o.get("properties") or {}).get("useRemoteGateways") is True]
    found = transit.remote_gateway_problem(_has_gateway(store, local), others)
    if found is not None:
        code, why = found
        raise bad_request(code, f"Peering {peering_id} cannot have UseRemoteGateways flag set to true because virtual "
                                f"network {local['id']} {why}. Only one peering of a virtual network without a gateway "
                                "can use remote gateways.", "properties.useRemoteGateways")


def _peering_after_put(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    vnet_id = codec.parent_id(new["id"])
    remote_id = new["properties"]["remoteVirtualNetwork"]["id"]
    back = _peering_back(store, remote_id, vnet_id)
    if back is not None and back["properties"].get("peeringState") != "Connected":
        back["properties"]["peeringState"] = "Connected"
        store.put(back["id"], back)
        _mirror_peerings(store, remote_id)
    _mirror_peerings(store, vnet_id)


def _peering_after_delete(store: ResourceStore, route: Route, old: Body) -> None:
    vnet_id = codec.parent_id(old["id"])
    remote_id = ((old.get("properties") or {}).get("remoteVirtualNetwork") or {}).get("id")
    back = _peering_back(store, remote_id, vnet_id) if remote_id else None
    if back is not None and remote_id:
        back["properties"]["peeringState"] = "Disconnected"
        store.put(back["id"], back)
        _mirror_peerings(store, remote_id)
    _mirror_peerings(store, vnet_id)


HOOKS = {
    codec.T_VNET: Hooks(prepare=_vnet_prepare, after_put=_vnet_after_put, before_delete=_vnet_before_delete,
                        check_model=True),
    codec.T_SUBNET: Hooks(prepare=_subnet_prepare, after_put=_subnet_after_put, before_delete=_subnet_before_delete,
                          after_delete=_subnet_after_delete, check_model=True),
    T_PEERING: Hooks(prepare=_peering_prepare, after_put=_peering_after_put, after_delete=_peering_after_delete),
}
