"""What a virtual network lets through to its private endpoints, as nftables rules in its namespace.

Two things Azure does between a VNet's edge and a private endpoint, done to real packets:

- A private endpoint whose connection is not Approved (Pending, Rejected, Disconnected) passes
  no traffic: its packets are dropped, so a client times out, as against Azure.
- The NSG on the endpoint's subnet, where the subnet enables network policies for private
  endpoints (the condition ``model.reach`` applies): its inbound rules with Azure's defaults,
  lowest priority number first (``model.nsg.rules_in_order``), each one nft rule that accepts or
  drops. Prefixes mean what ``model.nsg.prefix_matches`` says: ``VirtualNetwork`` the VNet, its
  peers and the sites connected to them; ``Internet`` any non-private address; another service
  tag nothing, so its rule is left out.

The gateway listening on the endpoint's address is in the same namespace, so the input hook
is where these apply.
"""

from __future__ import annotations

import ipaddress

from arclink.model import schema
from arclink.model.nsg import _vnet_ranges, rules_in_order

TABLE = "arclink_lab"
POLICIES = ("Enabled", "NetworkSecurityGroupEnabled")  # as model.reach: private endpoints honour the NSG


def _private_networks() -> list[str]:
    nets = getattr(getattr(ipaddress.IPv4Address, "_constants", None), "_private_networks", None)
    if not nets:
        nets = [ipaddress.ip_network(n) for n in ("0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16",
                                                  "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16",
                                                  "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4")]
    return [str(n) for n in nets if n.version == 4]


def pe_addresses(pe) -> list[str]:
    out = [rec.address for rec in pe.records]
    out += [a for a in (pe.spec.ip_addresses or {}).values() if a not in out]
    return out


def _set(items) -> str:
    return "{ " + ", ".join(items) + " }"


def _prefix(ix, vnet, prefix: str, field: str) -> str | None:
    """The nft match for an NSG address prefix; "" matches all, None nothing."""
    p = prefix.strip()
    if p == "*":
        return ""
    if p.lower() == "virtualnetwork":
        return f"ip {field} {_set(sorted({str(n) for n in _vnet_ranges(ix, vnet)}))}"
    if p.lower() == "internet":
        return f"ip {field} != {_set(_private_networks())}"
    try:
        return f"ip {field} {ipaddress.ip_network(p, strict=False)}"
    except ValueError:
        return None  # another service tag: it never matches a modelled address


def _ports(spec: str) -> str | None:
    parts = []
    for part in str(spec).split(","):
        part = part.strip()
        if part == "*":
            return ""
        lo, dash, hi = part.partition("-")
        lo, hi = lo.strip(), (hi if dash else lo).strip()
        if lo.isdigit() and hi.isdigit() and int(lo) <= int(hi):
            parts.append(lo if lo == hi else f"{lo}-{hi}")
    return _set(parts) if parts else None


def nsg_rule(ix, vnet, rule: schema.SecurityRule) -> str | None:
    """One inbound security rule as an nft rule, or None when it can match no packet of the lab."""
    proto = {"*": "meta l4proto { tcp, udp }", "tcp": "meta l4proto tcp", "udp": "meta l4proto udp"}.get(
        rule.protocol.lower())
    ports = _ports(rule.destination_port_range)
    src = _prefix(ix, vnet, rule.source_address_prefix, "saddr")
    dst = _prefix(ix, vnet, rule.destination_address_prefix, "daddr")
    if proto is None or ports is None or src is None or dst is None:
        return None
    if rule.protocol == "*" and ports == "":
        proto = ""  # every protocol, every port
    port = f"th dport {ports}" if ports else ""
    verdict = "accept" if rule.access == "Allow" else "drop"
    parts = [src, dst, proto, port, verdict, f'comment "{rule.name[:60]} ({rule.priority})"']
    return " ".join(p for p in parts if p)


def ruleset(ix, vnet) -> str | None:
    """The VNet namespace's ruleset, or None when nothing in it filters."""
    held, chains, jumps = [], [], []
    for pe in vnet.endpoints:
        addrs = pe_addresses(pe)
        if pe.state != "Approved" and addrs:
            held.append(f"        ip daddr {_set(addrs)} drop comment \"{pe.name[:40]} is {pe.state}\"")
    subnets = {}
    for pe in vnet.endpoints:
        sn = pe.subnet
        if sn.nsg is not None and sn.spec.private_endpoint_network_policies in POLICIES and pe_addresses(pe):
            subnets.setdefault(id(sn), (sn, []))[1].extend(pe_addresses(pe))
    for i, (sn, addrs) in enumerate(subnets.values()):
        chain = f"nsg{i}"
        jumps.append(f"        ip daddr {_set(sorted(set(addrs)))} jump {chain}")
        lines = [f"    chain {chain} {{  # NSG '{sn.nsg.name}' on subnet '{sn.name}'"]
        for rule in rules_in_order(sn.nsg):
            if rule.direction == "Inbound":
                text = nsg_rule(ix, vnet, rule)
                if text:
                    lines.append("        " + text)
        chains += lines + ["    }"]
    if not held and not jumps:
        return None
    return "\n".join([f"# VNet '{vnet.name}': private endpoints' connection state and subnet NSGs.",
                      f"table inet {TABLE} {{",
                      "    chain input {", "        type filter hook input priority filter; policy accept;",
                      *held, *jumps, "    }", *chains, "}", ""])
