"""What a virtual network lets through to and from its private endpoints, as nftables rules in its namespace.

Two things Azure does between a VNet's edge and a private endpoint, done to real packets:

- A private endpoint whose connection is not Approved (Pending, Rejected, Disconnected) passes
  no traffic: its packets are dropped, so a client times out, as against Azure.
- The NSG on the endpoint's subnet, where the subnet enables network policies for private
  endpoints (the condition ``model.reach`` applies): its inbound rules (packets to the endpoint)
  and outbound rules (connections the endpoint's addresses start), each direction with Azure's
  defaults, lowest priority number first (``model.nsg.rules_in_order``), each one nft rule that
  accepts or drops. An NSG is stateful: replies to a connection it let through pass. Prefixes:
  ``VirtualNetwork`` is the VNet, its peers and the sites connected to them
  (``model.nsg.vnet_ranges``); ``Internet`` any non-private address; a service tag the catalogue
  gives public endpoints (AzureResourceManager, AzureActiveDirectory, MicrosoftContainerRegistry,
  AzureFrontDoor.FirstParty, AzureArcInfrastructure) the lab's addresses of those endpoints
  (``LabPlan.tag_addresses``); another tag matches nothing, so its rule is left out.

The gateway listening on the endpoint's address is in the same namespace, so the input and
output hooks are where these apply.
"""

from __future__ import annotations

import ipaddress

from arclink.model import schema
from arclink.model.nsg import destination_ports, destinations, rules_in_order, sources, vnet_ranges

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


def _prefixes(ix, vnet, prefixes: list[str], field: str, tags: dict[str, list[str]]) -> list[str]:
    """The nft matches for a rule's address prefixes, one per alternative; "" matches all.

    ``Internet`` is a negated set, so it is an alternative of its own (one nft rule each); a
    prefix that can match no lab address (a tag the lab has no address for) adds none.
    """
    positive: set[str] = set()
    out = []
    for prefix in prefixes:
        p = prefix.strip()
        if p == "*":
            return [""]
        if p.lower() == "virtualnetwork":
            positive |= {str(n) for n in vnet_ranges(ix, vnet)}
        elif p.lower() == "internet":
            out.append(f"ip {field} != {_set(_private_networks())}")
        elif p.lower() in tags:
            positive |= set(tags[p.lower()])
        else:
            try:
                positive.add(str(ipaddress.ip_network(p, strict=False)))
            except ValueError:
                pass  # a service tag the lab has no address for matches nothing here
    if positive:
        out.insert(0, f"ip {field} {_set(sorted(positive))}")
    return out


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


def nsg_rules(ix, vnet, rule: schema.SecurityRule, tags: dict[str, list[str]]) -> list[str]:
    """One security rule as nft rules (one per alternative of its prefixes); none when it can match
    no packet of the lab."""
    proto = {"*": "meta l4proto { tcp, udp }", "tcp": "meta l4proto tcp", "udp": "meta l4proto udp"}.get(
        rule.protocol.lower())
    ports = _ports(",".join(destination_ports(rule)))
    if proto is None or ports is None:
        return []
    if rule.protocol == "*" and ports == "":
        proto = ""  # every protocol, every port
    port = f"th dport {ports}" if ports else ""
    verdict = "accept" if rule.access == "Allow" else "drop"
    out = []
    for src in _prefixes(ix, vnet, sources(rule), "saddr", tags):
        for dst in _prefixes(ix, vnet, destinations(rule), "daddr", tags):
            parts = [src, dst, proto, port, verdict, f'comment "{rule.name[:60]} ({rule.priority})"']
            out.append(" ".join(p for p in parts if p))
    return out


def ruleset(ix, vnet, tags: dict[str, list[str]] | None = None) -> str | None:
    """The VNet namespace's ruleset, or None when nothing in it filters.

    ``tags``: service tag (lower case) -> its public addresses in the lab (``LabPlan.tag_addresses``).
    """
    tags = tags or {}
    held_in, held_out, inbound, outbound, chains = [], [], [], [], []
    for pe in vnet.endpoints:
        addrs = pe_addresses(pe)
        if pe.state != "Approved" and addrs:
            held_in.append(f"        ip daddr {_set(addrs)} drop comment \"{pe.name[:40]} is {pe.state}\"")
            held_out.append(f"        ip saddr {_set(addrs)} drop comment \"{pe.name[:40]} is {pe.state}\"")
    subnets: dict[int, tuple] = {}
    for pe in vnet.endpoints:
        sn = pe.subnet
        if sn.nsg is not None and sn.spec.private_endpoint_network_policies in POLICIES and pe_addresses(pe):
            subnets.setdefault(id(sn), (sn, []))[1].extend(pe_addresses(pe))
    if subnets:  # an NSG is stateful: what it let through is answered
        inbound.append("        ct state established,related accept")
        outbound.append("        ct state established,related accept")
    for i, (sn, addrs) in enumerate(subnets.values()):
        where = _set(sorted(set(addrs)))
        for direction, hook, field in (("Inbound", inbound, "daddr"), ("Outbound", outbound, "saddr")):
            chain = f"nsg{i}_{'in' if direction == 'Inbound' else 'out'}"
            hook.append(f"        ip {field} {where} jump {chain}")
            lines = [f"    chain {chain} {{  # NSG '{sn.nsg.name}' on subnet '{sn.name}', {direction.lower()}"]
            for rule in rules_in_order(sn.nsg):
                if rule.direction == direction:
                    lines += ["        " + text for text in nsg_rules(ix, vnet, rule, tags)]
            chains += lines + ["    }"]
    if not held_in and not subnets:
        return None
    return "\n".join([f"# VNet '{vnet.name}': private endpoints' connection state and subnet NSGs.",
                      f"table inet {TABLE} {{",
                      "    chain input {", "        type filter hook input priority filter; policy accept;",
                      *held_in, *inbound, "    }",
                      "    chain output {", "        type filter hook output priority filter; policy accept;",
                      *held_out, *outbound, "    }", *chains, "}", ""])
