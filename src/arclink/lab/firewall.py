"""A site's internet firewall as an nftables ruleset in the site's namespace.

The site's processes (its DNS server, clusters, the doctor) all run in the site namespace,
so its output and input hooks are where the edge firewall filters. Whether a public address
is allowed is the model's own decision (``reach.firewall_allows`` for every service tag of
the endpoint, FrontDoor both ways), so the lab drops exactly what the model says it drops:
the packet is dropped, not refused, and the client times out as it would at a store.
"""

from __future__ import annotations

import subprocess

from arclink.lab.plan import LabPlan
from arclink.model import catalogue as cat
from arclink.model.reach import firewall_allows

TABLE = "arclink_lab"


def allowed_addresses(plan: LabPlan, site) -> list[str]:
    out = []
    for address, tags in plan.public_tags.items():
        ok = all(firewall_allows(site, t) for t in tags)
        ok = ok and all(firewall_allows(site, t, inbound=True) for t in tags if t in cat.INBOUND_SERVICE_TAGS)
        if ok:
            out.append(address)
    return out


def ruleset(plan: LabPlan, site, edge: str) -> str:
    allowed = allowed_addresses(plan, site)
    resolvers = sorted(f.address for f in plan.forwarders if f.ns == plan.internet.ns)
    lines = [f"# Site '{site.name}': internet edge {edge}; TCP 443 only to the service tags its firewall allows.",
             f"table inet {TABLE} {{",
             "    set resolvers { type ipv4_addr; elements = { " + ", ".join(resolvers) + " } }"]
    if allowed:
        lines.append("    set allowed { type ipv4_addr; elements = { " + ", ".join(allowed) + " } }")
    lines += ["    chain output {", "        type filter hook output priority filter; policy accept;",
              f'        oifname "{edge}" ct state established,related accept',
              f'        oifname "{edge}" ip daddr @resolvers meta l4proto {{ tcp, udp }} th dport 53 accept']
    if allowed:
        lines.append(f'        oifname "{edge}" ip daddr @allowed tcp dport 443 accept')
    lines += [f'        oifname "{edge}" drop', "    }",
              "    chain input {", "        type filter hook input priority filter; policy accept;",
              f'        iifname "{edge}" ct state established,related accept',
              f'        iifname "{edge}" drop', "    }", "}", ""]
    return "\n".join(lines)


def load(ns: str, text: str) -> None:
    proc = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nft -f in {ns} failed: {proc.stderr.strip()}")
