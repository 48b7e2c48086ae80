"""DNS private resolvers (inbound and outbound endpoints) and DNS forwarding rulesets.

An inbound endpoint is what on-premises DNS servers forward the privatelink zones to: the
model reads each one as a DNS forwarder of kind ``privateResolverInbound`` in the
resolver's virtual network (``model.arm_codec``), exactly as one given through the control
API. Endpoints sit in subnets of the resolver's virtual network that hold nothing else
(Azure delegates them to ``Microsoft.Network/dnsResolvers``); a dynamic address is the
first free one after the four Azure keeps. Rulesets, their rules and links are checked
and stored: they forward from Azure to on-premises, which the model does not follow.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from arclink.arm.errors import ArmError, bad_request
from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.resources.common import arm_id_or_fail, ref_missing, type_of
from arclink.arm.routes import Route
from arclink.model import arm_codec as codec
from arclink.model import catalogue as cat
from arclink.model.rules import Rule

ENFORCES: tuple[Rule, ...] = ()
T_RESOLVER = "microsoft.network/dnsresolvers"
T_INBOUND = "microsoft.network/dnsresolvers/inboundendpoints"
T_OUTBOUND = "microsoft.network/dnsresolvers/outboundendpoints"
T_RULESET = "microsoft.network/dnsforwardingrulesets"
T_RULE = "microsoft.network/dnsforwardingrulesets/forwardingrules"
T_RULESET_LINK = "microsoft.network/dnsforwardingrulesets/virtualnetworklinks"
_ENDPOINT_MARK = "/providers/microsoft.network/dnsresolvers/"


def _ref(obj: Any) -> str:
    return (obj.get("id") or "") if isinstance(obj, dict) else ""


def _guid(new: Body, old: Body | None) -> None:
    new["properties"]["resourceGuid"] = ((old or {}).get("properties") or {}).get("resourceGuid") or str(uuid.uuid4())


def _same_region(new: Body, other: Body, what: str) -> None:
    if cat.normalize_location(new.get("location")) != cat.normalize_location(other.get("location")):
        raise bad_request("InvalidResourceLocation", f"{new['type']} '{new['name']}' is in '{new.get('location')}' but "
                                                     f"its {what} '{other.get('name')}' is in '{other.get('location')}'; "
                                                     "they must be in the same region.", "location")


def _vnet(store: ResourceStore, vid: Any, path: str, by: str) -> Body:
    arm_id_or_fail(vid, path)
    vnet = store.get_obj(vid)
    if vnet is None or type_of(vnet) != codec.T_VNET:
        raise ref_missing(str(vid), by)
    return vnet


def _resolver_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    p = new["properties"]
    vnet = _vnet(store, p["virtualNetwork"]["id"], "properties.virtualNetwork.id", new["id"])
    old_vnet = _ref(((old or {}).get("properties") or {}).get("virtualNetwork"))
    if old_vnet and old_vnet.lower() != vnet["id"].lower():
        raise bad_request("InvalidRequestContent", "A DNS resolver's virtual network cannot be changed.",
                          "properties.virtualNetwork.id")
    _same_region(new, vnet, "virtual network")
    for k in store.bodies:
        if _ENDPOINT_MARK in k and k.count("/") == 8 and k != route.key:
            other = store.get_obj(k) or {}
            if _ref((other.get("properties") or {}).get("virtualNetwork")).lower() == vnet["id"].lower():
                raise ArmError(409, "Conflict", f"Virtual network '{vnet['name']}' already has DNS resolver "
                                                f"'{other.get('name')}'; a virtual network takes one.")
    p["virtualNetwork"] = {"id": vnet["id"]}
    p["dnsResolverState"] = "Connected"
    _guid(new, old)


def _subnet_of_resolver(store: ResourceStore, new: Body, sid: Any, path: str) -> Body:
    arm_id_or_fail(sid, path)
    subnet = store.get_obj(sid)
    if subnet is None or type_of(subnet) != codec.T_SUBNET:
        raise ref_missing(str(sid), new["id"])
    resolver = store.get_obj(codec.parent_id(new["id"])) or {}
    vnet_id = _ref((resolver.get("properties") or {}).get("virtualNetwork"))
    if codec.parent_id(subnet["id"]).lower() != vnet_id.lower():
        raise bad_request("InvalidRequestContent", f"Subnet '{subnet['id']}' is not in the resolver's virtual network "
                                                   f"'{vnet_id}'.", path)
    # the subnet is delegated to the resolver: no private endpoint, no other endpoint
    if (subnet.get("properties") or {}).get("privateEndpoints"):
        raise bad_request("InvalidRequestContent", f"Subnet '{subnet['name']}' holds private endpoints; a DNS resolver "
                                                   "endpoint needs a subnet of its own.", path)
    for other in endpoints_in(store, subnet["id"]):
        if other["id"].lower() != new["id"].lower():
            raise bad_request("InvalidRequestContent", f"Subnet '{subnet['name']}' is already used by DNS resolver "
                                                       f"endpoint '{other['id']}'; each endpoint needs its own subnet.",
                              path)
    _same_region(new, resolver, "DNS resolver")
    return subnet


def endpoints_in(store: ResourceStore, subnet_id: str) -> list[Body]:
    """The resolver endpoints (inbound or outbound) in a subnet."""
    out = []
    low = subnet_id.lower()
    for k in list(store.bodies):
        if _ENDPOINT_MARK in k and ("/inboundendpoints/" in k or "/outboundendpoints/" in k):
            ep = store.get_obj(k) or {}
            p = ep.get("properties") or {}
            subnets = [_ref(p.get("subnet"))] + [_ref(c.get("subnet")) for c in p.get("ipConfigurations") or []
                                                 if isinstance(c, dict)]
            if low in {s.lower() for s in subnets}:
                out.append(ep)
    return out


def _first_free(subnet: Body) -> str:
    sp = subnet.get("properties") or {}
    net = ipaddress.ip_network(sp.get("addressPrefix") or (sp.get("addressPrefixes") or [""])[0])
    if net.num_addresses < 8:
        raise bad_request("InvalidRequestContent", f"Subnet '{subnet['name']}' is too small for a DNS resolver endpoint "
                                                   "(use a /28 or larger).")
    return str(net.network_address + 4)


def _inbound_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    configs = new["properties"]["ipConfigurations"]
    if not isinstance(configs, list) or len(configs) != 1 or not isinstance(configs[0], dict):
        raise bad_request("InvalidRequestContent", "An inbound endpoint takes exactly one IP configuration "
                                                    "({subnet: {id}, privateIpAllocationMethod}).",
                          "properties.ipConfigurations")
    c = configs[0]
    path = "properties.ipConfigurations[0]"
    subnet = _subnet_of_resolver(store, new, _ref(c.get("subnet")) or None, path + ".subnet.id")
    method = str(c.get("privateIpAllocationMethod") or "Dynamic")
    if method.lower() not in ("dynamic", "static"):
        raise bad_request("InvalidParameter", f"privateIpAllocationMethod must be Dynamic or Static, not '{method}'.",
                          path + ".privateIpAllocationMethod")
    if method.lower() == "static":
        ip = c.get("privateIpAddress")
        sp = subnet.get("properties") or {}
        net = ipaddress.ip_network(sp.get("addressPrefix") or (sp.get("addressPrefixes") or [""])[0])
        try:
            inside = ipaddress.ip_address(str(ip)) in net if isinstance(ip, str) else False
        except (ValueError, TypeError):
            inside = False
        if not inside:
            raise bad_request("InvalidRequestContent", f"privateIpAddress '{ip}' is not an address of subnet "
                                                       f"'{subnet['name']}' ({net}).", path + ".privateIpAddress")
    else:
        ip = _first_free(subnet)
    new["properties"]["ipConfigurations"] = [{"subnet": {"id": subnet["id"]}, "privateIpAddress": ip,
                                              "privateIpAllocationMethod": method.capitalize()}]
    _guid(new, old)


def _outbound_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    subnet = _subnet_of_resolver(store, new, new["properties"]["subnet"]["id"], "properties.subnet.id")
    new["properties"]["subnet"] = {"id": subnet["id"]}
    _guid(new, old)


def _ruleset_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    refs = new["properties"]["dnsResolverOutboundEndpoints"]
    if not isinstance(refs, list) or not refs:
        raise bad_request("InvalidRequestContent", "A forwarding ruleset needs at least one outbound endpoint in "
                                                   "dnsResolverOutboundEndpoints.", "properties.dnsResolverOutboundEndpoints")
    out = []
    for i, ref in enumerate(refs):
        path = f"properties.dnsResolverOutboundEndpoints[{i}].id"
        arm_id_or_fail(_ref(ref) or None, path)
        ep = store.get_obj(_ref(ref))
        if ep is None or type_of(ep) != T_OUTBOUND:
            raise ref_missing(_ref(ref), new["id"])
        _same_region(new, ep, "outbound endpoint")
        out.append({"id": ep["id"]})
    new["properties"]["dnsResolverOutboundEndpoints"] = out
    _guid(new, old)


def _rule_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    p = new["properties"]
    domain = p["domainName"]
    labels = domain.rstrip(".").split(".") if isinstance(domain, str) else []
    if not domain.endswith(".") or not all(labels) or len(domain) > 254:
        raise bad_request("InvalidRequestContent", f"domainName '{domain}' must be a fully qualified domain name "
                                                   "ending with a dot, for example 'contoso.com.'.", "properties.domainName")
    servers = p["targetDnsServers"]
    if not isinstance(servers, list) or not 1 <= len(servers) <= 6:
        raise bad_request("InvalidRequestContent", "targetDnsServers takes 1 to 6 servers.", "properties.targetDnsServers")
    for i, srv in enumerate(servers):
        path = f"properties.targetDnsServers[{i}]"
        try:
            ipaddress.ip_address(str(srv["ipAddress"]) if isinstance(srv.get("ipAddress"), str) else "")
        except (ValueError, TypeError, AttributeError):
            raise bad_request("InvalidRequestContent", f"{path}.ipAddress must be an IP address.", path) from None
        port = srv.setdefault("port", 53)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise bad_request("InvalidRequestContent", f"{path}.port must be 1-65535.", path + ".port")
    p.setdefault("metadata", {})


def _link_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    vnet = _vnet(store, new["properties"]["virtualNetwork"]["id"], "properties.virtualNetwork.id", new["id"])
    new["properties"]["virtualNetwork"] = {"id": vnet["id"]}
    new["properties"].setdefault("metadata", {})
    new.pop("location", None)
    new.pop("tags", None)


HOOKS = {
    T_RESOLVER: Hooks(prepare=_resolver_prepare),
    T_INBOUND: Hooks(prepare=_inbound_prepare, check_model=True),
    T_OUTBOUND: Hooks(prepare=_outbound_prepare),
    T_RULESET: Hooks(prepare=_ruleset_prepare),
    T_RULE: Hooks(prepare=_rule_prepare),
    T_RULESET_LINK: Hooks(prepare=_link_prepare),
}
