"""Short, readable names for the resources findings point at."""

from __future__ import annotations

from arclink.model.index import parse_arm_id

_KINDS = {
    "virtualnetworks": "virtual network",
    "networksecuritygroups": "network security group",
    "privatelinkscopes": "private link scope",
    "privateendpoints": "private endpoint",
    "privatednszones": "private DNS zone",
    "connectedclusters": "cluster",
    "dnsresolvers": "DNS private resolver",
    "azurefirewalls": "firewall DNS proxy",
    "virtualmachines": "DNS forwarder VM",
}


def describe(resource: str) -> str:
    """``/subscriptions/.../virtualNetworks/vnet-hub`` -> ``virtual network 'vnet-hub'``."""
    if ":" in resource and not resource.startswith("/"):
        kind, _, name = resource.partition(":")
        return f"{kind} '{name}'"
    parts = parse_arm_id(resource)
    if not parts:
        return resource
    if parts["rest"]:
        child = parts["rest"].strip("/").split("/")
        if len(child) >= 2:
            return f"{child[-2].rstrip('s')} '{child[-1]}' of '{parts['name']}'"
    if parts["type"].lower() == "providers" or parts["ns"].lower() == "microsoft.resources":
        return resource
    kind = _KINDS.get(parts["type"].lower(), parts["type"])
    return f"{kind} '{parts['name']}'"
