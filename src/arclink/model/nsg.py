"""Network security group evaluation, as Azure does it: lowest priority number first.

Default rules are Azure's (AllowVnetInBound 65000, AllowAzureLoadBalancerInBound
65001, DenyAllInBound 65500; AllowVnetOutBound 65000, AllowInternetOutBound
65001, DenyAllOutBound 65500). The ``VirtualNetwork`` tag covers the VNet, its
peers and the on-premises ranges routed to it (``transit.site_route``), as in Azure.

A rule's plural fields (``sourceAddressPrefixes``, ``destinationPortRanges``...) are its set
where given, the singular otherwise (``sources``, ``destinations``, ``destination_ports``): ARM
takes one form or the other.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from arclink.model import schema
from arclink.model.resolved import Index, IPNetwork, NsgR, VNetR
from arclink.model.transit import site_route

DEFAULT_RULES = (
    schema.SecurityRule(name="AllowVnetInBound", priority=65000, direction="Inbound", access="Allow",
                        source_address_prefix="VirtualNetwork", destination_address_prefix="VirtualNetwork"),
    schema.SecurityRule(name="AllowAzureLoadBalancerInBound", priority=65001, direction="Inbound", access="Allow",
                        source_address_prefix="AzureLoadBalancer"),
    schema.SecurityRule(name="DenyAllInBound", priority=65500, direction="Inbound", access="Deny"),
    schema.SecurityRule(name="AllowVnetOutBound", priority=65000, direction="Outbound", access="Allow",
                        source_address_prefix="VirtualNetwork", destination_address_prefix="VirtualNetwork"),
    schema.SecurityRule(name="AllowInternetOutBound", priority=65001, direction="Outbound", access="Allow",
                        destination_address_prefix="Internet"),
    schema.SecurityRule(name="DenyAllOutBound", priority=65500, direction="Outbound", access="Deny"),
)


@dataclass
class Verdict:
    allowed: bool
    rule: str
    priority: int

    def describe(self) -> str:
        return f"{'allowed' if self.allowed else 'denied'} by rule '{self.rule}' (priority {self.priority})"


def sources(rule: schema.SecurityRule) -> list[str]:
    return list(rule.source_address_prefixes) or [rule.source_address_prefix]


def destinations(rule: schema.SecurityRule) -> list[str]:
    return list(rule.destination_address_prefixes) or [rule.destination_address_prefix]


def destination_ports(rule: schema.SecurityRule) -> list[str]:
    return list(rule.destination_port_ranges) or [rule.destination_port_range]


def source_ports(rule: schema.SecurityRule) -> list[str]:
    return list(rule.source_port_ranges) or [rule.source_port_range]


def covers_port(rule: schema.SecurityRule, port: int) -> bool:
    """Does the rule's destination port set cover ``port``?"""
    return any(port_matches(spec, port) for spec in destination_ports(rule))


def rules_in_order(nsg: NsgR) -> list[schema.SecurityRule]:
    return sorted(list(nsg.spec.security_rules) + list(DEFAULT_RULES), key=lambda r: r.priority)


def port_matches(spec: str, port: int) -> bool:
    """Does a port spec ("*", "443", "80-443", "80,443") cover ``port``? A malformed part covers nothing."""
    for part in str(spec).split(","):
        part = part.strip()
        if part == "*":
            return True
        lo, dash, hi = part.partition("-")
        lo, hi = lo.strip(), (hi if dash else lo).strip()
        if lo.isdigit() and hi.isdigit() and int(lo) <= port <= int(hi):
            return True
    return False


def port_range_error(spec: str) -> str | None:
    """Azure's refusal for a malformed port range ("*", "443" or "80-443", 0-65535), or None."""
    text = str(spec).strip()
    if text == "*":
        return None
    lo, dash, hi = text.partition("-")
    lo, hi = lo.strip(), (hi if dash else lo).strip()
    if lo.isdigit() and hi.isdigit() and 0 <= int(lo) <= int(hi) <= 65535:
        return None
    return (f"Security rule has invalid Port range. Value provided: {text}. Value should be an integer OR integer "
            "range with '-' delimiter. Valid range 0-65535.")


def vnet_ranges(index: Index, vnet: VNetR) -> list[IPNetwork]:
    """What the ``VirtualNetwork`` tag covers for ``vnet``: its ranges, its peers' and the sites routed to it."""
    nets = list(vnet.networks)
    for p in vnet.peers:
        nets += p.networks
    for site in index.sites.values():
        if site_route(site, vnet) is not None:
            nets += site.networks
    return nets


def prefix_matches(index: Index, vnet: VNetR | None, prefix: str, address: str) -> bool:
    p = prefix.strip()
    if p == "*":
        return True
    ip = ipaddress.ip_address(address)
    if p.lower() == "virtualnetwork":
        return vnet is not None and any(ip in n for n in vnet_ranges(index, vnet))
    if p.lower() == "internet":
        return not ip.is_private
    try:
        return ip in ipaddress.ip_network(p, strict=False)
    except ValueError:
        return False  # another service tag: never matches a modelled private address


def evaluate_nsg(index: Index, nsg: NsgR, direction: str, src: str, dst: str, port: int,
                 vnet: VNetR | None) -> Verdict:
    for rule in rules_in_order(nsg):
        if rule.direction != direction or rule.protocol not in ("*", "Tcp"):
            continue
        if not covers_port(rule, port):
            continue
        if not any(prefix_matches(index, vnet, p, src) for p in sources(rule)):
            continue
        if not any(prefix_matches(index, vnet, p, dst) for p in destinations(rule)):
            continue
        return Verdict(rule.access == "Allow", rule.name, rule.priority)
    return Verdict(False, "DenyAll", 65500)


def blocks_internet(rule: schema.SecurityRule, direction: str = "Outbound") -> bool:
    """A deny that would catch TCP 443 to the internet (outbound) or from it (inbound): the seed's
    'rules that block internet access'."""
    far_end = destinations(rule) if direction == "Outbound" else sources(rule)
    return (rule.direction == direction and rule.access == "Deny"
            and any(p.strip().lower() in ("*", "internet", "0.0.0.0/0") for p in far_end)
            and covers_port(rule, 443))


def allows_tag(rule: schema.SecurityRule, tag: str, direction: str) -> bool:
    far_end = destinations(rule) if direction == "Outbound" else sources(rule)
    return (rule.direction == direction and rule.access == "Allow" and rule.protocol in ("*", "Tcp")
            and covers_port(rule, 443) and any(p.strip().lower() == tag.lower() for p in far_end))


# --- ARM's form ----------------------------------------------------------------------------------


PLURAL_RULE_FIELDS = ("sourceAddressPrefixes", "sourcePortRanges", "destinationAddressPrefixes", "destinationPortRanges")


def security_rule(rule: schema.SecurityRule) -> dict:
    """A topology NSG rule as an ARM security rule; a plural field given replaces its singular."""
    props: dict[str, Any] = {
        "protocol": rule.protocol, "access": rule.access, "priority": rule.priority, "direction": rule.direction,
        "sourceAddressPrefix": rule.source_address_prefix, "sourcePortRange": rule.source_port_range,
        "destinationAddressPrefix": rule.destination_address_prefix,
        "destinationPortRange": rule.destination_port_range}
    for plural, values in (("sourceAddressPrefixes", rule.source_address_prefixes),
                           ("sourcePortRanges", rule.source_port_ranges),
                           ("destinationAddressPrefixes", rule.destination_address_prefixes),
                           ("destinationPortRanges", rule.destination_port_ranges)):
        if values:
            props[plural] = list(values)
            props.pop(plural[:-2] if plural.endswith("Prefixes") else plural[:-1])
    return {"name": rule.name, "properties": props}
