"""The network interface Azure creates for each private endpoint, and the back-references it feeds.

Azure names it ``<endpoint>.nic.<guid>`` in the endpoint's resource group and lists it in the
endpoint's ``properties.networkInterfaces``; it is read-only (a PUT or DELETE of it is refused)
and goes with its endpoint. Each of its ``ipConfigurations`` holds one private address and
the FQDNs that resolve to it (``privateLinkConnectionProperties``).

Back-references ARM shows and nobody writes: a subnet's ``privateEndpoints`` and
``ipConfigurations``, a network security group's ``subnets``. They are recomputed whenever
a write may change them.
"""

from __future__ import annotations

import uuid
from typing import Any

from arclink.arm.errors import ArmError
from arclink.arm.hooks import Body, Hooks, ResourceStore
from arclink.arm.routes import Route
from arclink.model import arm_codec as codec
from arclink.model import catalogue as cat
from arclink.model.rules import Rule

ENFORCES: tuple[Rule, ...] = ()
T_NIC = "microsoft.network/networkinterfaces"
# the member of the Arc private link resource each zone's names belong to
_MEMBERS = dict(zip((z.key for z in cat.ARC_ZONES), ("HybridCompute.ServerDP", "HybridCompute.GuestConfigDP",
                                                        "HybridCompute.K8sConfigurationDP")))


def _ref(obj: Any) -> str:
    return (obj.get("id") or "") if isinstance(obj, dict) else ""


def nic_id(pe: Body) -> str | None:
    nics = (pe.get("properties") or {}).get("networkInterfaces") or []
    return _ref(nics[0]) or None if nics else None


def _ip_configurations(nic: str, pe: Body, group_id: str) -> list[Body]:
    by_ip: dict[str, list[str]] = {}
    for c in (pe.get("properties") or {}).get("customDnsConfigs") or []:
        for ip in c.get("ipAddresses") or []:
            by_ip.setdefault(ip, []).append(c.get("fqdn") or "")
    subnet = (pe.get("properties") or {}).get("subnet") or {}
    out = []
    for i, (ip, fqdns) in enumerate(by_ip.items()):
        zone = cat.arc_zone_for(fqdns[0]) if fqdns else None
        member = _MEMBERS.get(zone.key, group_id) if zone else group_id
        name = f"privateEndpointIpConfig.{uuid.uuid5(uuid.NAMESPACE_URL, f'{nic.lower()}/{ip}')}"
        out.append({"name": name, "id": f"{nic}/ipConfigurations/{name}", "etag": pe.get("etag") or "",
                    "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                    "properties": {"provisioningState": "Succeeded", "privateIPAddress": ip,
                                   "privateIPAllocationMethod": "Dynamic", "subnet": {"id": _ref(subnet)},
                                   "primary": i == 0, "privateIPAddressVersion": "IPv4",
                                   "privateLinkConnectionProperties": {"groupId": group_id,
                                                                       "requiredMemberName": member,
                                                                       "fqdns": fqdns}}})
    return out


def sync_endpoint_nic(store: ResourceStore, pe: Body, group_id: str) -> None:
    """Write the endpoint's NIC as its addresses now are."""
    nid = nic_id(pe)
    if not nid:
        return
    old = store.get_obj(nid) or {}
    nic: Body = {"id": old.get("id") or nid, "name": nid.rsplit("/", 1)[-1], "type": "Microsoft.Network/networkInterfaces",
           "location": pe.get("location"), "etag": f'W/"{uuid.uuid4()}"', "tags": {},
           "properties": {"provisioningState": "Succeeded",
                          "resourceGuid": (old.get("properties") or {}).get("resourceGuid") or str(uuid.uuid4()),
                          "ipConfigurations": _ip_configurations(nid, pe, group_id),
                          "dnsSettings": {"dnsServers": [], "appliedDnsServers": []}, "macAddress": "",
                          "enableAcceleratedNetworking": False, "vnetEncryptionSupported": False,
                          "enableIPForwarding": False, "disableTcpStateTracking": False, "hostedWorkloads": [],
                          "tapConfigurations": [], "privateEndpoint": {"id": pe["id"]}, "nicType": "Standard",
                          "auxiliaryMode": "None", "auxiliarySku": "None"}}
    if old.get("systemData"):
        nic["systemData"] = old["systemData"]
    store.put(nid, nic)


def drop_endpoint_nic(store: ResourceStore, pe: Body) -> None:
    nid = nic_id(pe)
    if nid:
        store.delete(nid)


# --- back-references ------------------------------------------------------------------------------------------


def _typed(store: ResourceStore, marker: str, rtype: str) -> list[Body]:
    out = []
    for k in list(store.bodies):
        if marker in k:
            o = store.get_obj(k)
            if o and (o.get("type") or "").lower() == rtype:
                out.append(o)
    return out


def subnet_backrefs(store: ResourceStore, subnet_id: str) -> tuple[list[Body], list[Body]]:
    """(privateEndpoints, ipConfigurations) of a subnet: the endpoints in it and their NICs' addresses."""
    pes, ipcs = [], []
    low = subnet_id.lower()
    for pe in _typed(store, "/providers/microsoft.network/privateendpoints/", codec.T_PE):
        if _ref((pe.get("properties") or {}).get("subnet")).lower() != low:
            continue
        pes.append({"id": pe["id"]})
        nic = store.get_obj(nic_id(pe) or "") or {}
        ipcs += [{"id": c["id"]} for c in (nic.get("properties") or {}).get("ipConfigurations") or []]
    return pes, ipcs


def fill_subnet(store: ResourceStore, subnet: Body) -> None:
    pes, ipcs = subnet_backrefs(store, subnet["id"])
    p = subnet.setdefault("properties", {})
    for key, value in (("privateEndpoints", pes), ("ipConfigurations", ipcs)):
        if value:
            p[key] = value
        else:
            p.pop(key, None)


def refresh_subnet(store: ResourceStore, subnet_id: str) -> None:
    """Bring a stored subnet's back-references (and its VNet's inline copy) up to date."""
    from arclink.arm.resources.common import mirror

    subnet = store.get_obj(subnet_id)
    if subnet is None:
        return
    before = dict(subnet.get("properties") or {})
    fill_subnet(store, subnet)
    if subnet["properties"] != before:
        store.put(subnet["id"], subnet)
        mirror(store, codec.parent_id(subnet["id"]), "subnets", "subnets")


def nsg_subnets(store: ResourceStore, nsg_id: str) -> list[Body]:
    low = nsg_id.lower()
    return [{"id": s["id"]} for s in _typed(store, "/subnets/", codec.T_SUBNET)
            if _ref((s.get("properties") or {}).get("networkSecurityGroup")).lower() == low]


def refresh_nsgs(store: ResourceStore, nsg_ids: set[str]) -> None:
    for nid in nsg_ids:
        nsg = store.get_obj(nid) if nid else None
        if nsg is None:
            continue
        subnets = nsg_subnets(store, nid)
        p = nsg.setdefault("properties", {})
        if (p.get("subnets") or []) != subnets:
            if subnets:
                p["subnets"] = subnets
            else:
                p.pop("subnets", None)
            store.put(nsg["id"], nsg)


def nsgs_of(*subnets: Body | None) -> set[str]:
    """The NSG ids the given subnet bodies name."""
    return {n.lower() for s in subnets if s
            for n in [_ref((s.get("properties") or {}).get("networkSecurityGroup"))] if n}


# --- the NIC resource ----------------------------------------------------------------------------------------


def _nic_prepare(store: ResourceStore, route: Route, new: Body, old: Body | None) -> None:
    pe = ((old or {}).get("properties") or {}).get("privateEndpoint")
    if pe:
        raise ArmError(400, "CannotModifyNicAttachedToPrivateEndpoint",
                       f"Network interface {route.id} is attached to private endpoint {_ref(pe)} and cannot be "
                       "modified by the user; change the private endpoint instead.")
    raise ArmError(400, "InvalidRequestContent", "This emulator has only the network interfaces Azure creates for "
                                                 "private endpoints; they are read-only.")


def _nic_before_delete(store: ResourceStore, route: Route, old: Body) -> None:
    pe = (old.get("properties") or {}).get("privateEndpoint")
    if pe:
        raise ArmError(400, "InUseNetworkInterfaceCannotBeDeleted",
                       f"Network interface {old.get('id')} is used by private endpoint {_ref(pe)} and cannot be "
                       "deleted. It is deleted with the private endpoint.")


HOOKS = {T_NIC: Hooks(prepare=_nic_prepare, before_delete=_nic_before_delete)}
