"""What one step of a resolution is, as data: the sentence is for people, the fields for code.

resolve() records a ``Step`` for every server that answers or acts. Code that asks "did the
query go to a public resolver", "did it time out", "did a hosted zone answer NXDOMAIN" reads
``kind``, ``target`` and ``failure``; the wording of ``action`` may change freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class StepKind(Enum):
    """What a step is about: the server, record or zone that answered, or where a query went."""

    SITE_WITHOUT_DNS = "site without a DNS server"  # machines ask a public resolver
    ON_PREM_SERVER = "on-premises DNS server"  # a site's server forwarding (upstream, another site's server)
    MANUAL_RECORD = "manual record"  # a record written on the site's server
    HOSTED_ZONE = "hosted zone"  # a zone the site's server hosts itself (target: the zone)
    CONDITIONAL_FORWARDER = "conditional forwarder"  # target: the address forwarded to
    RECURSION = "recursion"  # a site's server resolving on the internet itself
    VNET_CUSTOM_DNS = "custom DNS server of a virtual network"  # target: the address
    RESOLVER_INBOUND = "DNS private resolver inbound endpoint"  # target: its address
    FORWARDER_VM = "DNS forwarder VM"
    FIREWALL_DNS_PROXY = "Azure Firewall DNS proxy"
    UNMODELLED_SERVER = "address with no modelled DNS server"
    AZURE_DNS = "Azure DNS"  # 168.63.129.16
    PRIVATE_ZONE = "private DNS zone"  # target: the zone's ARM id
    PUBLIC_RESOLVER = "public resolver"  # a query handed to a public or internet resolver; target: its address
    PUBLIC_DNS = "public DNS"
    CHAIN_LIMIT = "chain limit"  # the resolver gave up on a long or looping chain


# The forwarder kinds of the topology (dnsForwarders[].kind) -> the step kind of a query they take.
FORWARDER_STEP = {"privateResolverInbound": StepKind.RESOLVER_INBOUND, "vm": StepKind.FORWARDER_VM,
                  "firewallDnsProxy": StepKind.FIREWALL_DNS_PROXY}


class Failure(Enum):
    """How a step failed (None on a step that did not)."""

    TIMEOUT = "timeout"  # nothing answers: no path to the server, or no server at the address
    UNREACHABLE = "unreachable"  # the server is known but the asking network has no path to it
    LOOP = "loop"  # the CNAME chain is too long or loops
    NXDOMAIN = "nxdomain"  # the name does not exist where it was asked
    NODATA = "nodata"  # the name exists but has no address


@dataclass
class Step:
    server: str  # who answered or acted, in plain words
    action: str  # what it did, in plain words
    kind: StepKind
    target: str | None = None  # the address forwarded to, or the zone that answered
    failure: Failure | None = None
