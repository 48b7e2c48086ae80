"""Generate a large, correct private-link topology: N clusters over M on-premises sites.

Deterministic (same arguments, same bytes). One hub VNet with the scope's private endpoint,
the three private DNS zones with zone-group records, a DNS private resolver; every site
reaches the hub over ExpressRoute or site-to-site VPN, forwards the Arc zones to the
resolver and allows the required service tags; clusters are spread evenly over the sites.

    python bench/gen_topology.py --clusters 100000 --sites 1000 -o /tmp/topo-100k.yaml
"""

from __future__ import annotations

import argparse
import json
import sys

from arclink.model import catalogue as cat

SUB = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"
TAGS_OUT = list(cat.REQUIRED_SERVICE_TAGS)
TAGS_IN = list(cat.INBOUND_SERVICE_TAGS)
ARC_FORWARDED = [z.public_zone for z in cat.ARC_ZONES]
ZONES = [z.private_zone for z in cat.ARC_ZONES]


def seed_nsg_rules() -> list[dict]:
    """The seed's NSG table in the topology's shape: each rule outbound, then the inbound ones."""
    rules = [{"name": r["name"], "priority": r["priority"], "direction": "Outbound", "access": "Allow",
              "protocol": "Tcp", "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": r["tag"],
              "destinationPortRange": "443"} for r in cat.SEED_NSG_RULES if "Outbound" in r["directions"]]
    rules += [{"name": f"Allow{r['tag'].replace('.', '')}Inbound", "priority": r["priority"], "direction": "Inbound",
               "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": r["tag"],
               "destinationAddressPrefix": "VirtualNetwork", "destinationPortRange": "443"}
              for r in cat.SEED_NSG_RULES if "Inbound" in r["directions"]]
    return rules


def site_prefix(i: int) -> str:
    # 10.128.0.0/9 holds 32,768 /24 sites, far from the hub's 10.10.0.0/16.
    return f"10.{128 + i // 256}.{i % 256}.0/24"


def topology(clusters: int, sites: int, broken_sites: int = 0) -> dict:
    """``broken_sites`` sites (spread evenly) forward DNS to a public resolver: lint then has findings to report."""
    sites = max(1, min(sites, clusters or 1))
    step = sites // broken_sites if broken_sites else 0
    nsg_rules = seed_nsg_rules()
    nsg_rules.append({"name": "DenyInternetOutbound", "priority": 4000, "direction": "Outbound", "access": "Deny",
                      "protocol": "*", "destinationAddressPrefix": "Internet"})
    doc: dict = {
        "defaults": {"subscription": SUB, "resourceGroup": "rg-arc-hub", "location": "westeurope"},
        "subscriptions": [{"id": SUB, "name": "retail-prod", "registeredProviders": [
            "Microsoft.HybridCompute", "Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration", "Microsoft.Network"]}],
        "resourceGroups": [{"name": "rg-arc-hub", "location": "westeurope"},
                           {"name": "rg-arc-clusters", "location": "westeurope"}],
        "networkSecurityGroups": [{"name": "nsg-hub-endpoints", "securityRules": nsg_rules}],
        "virtualNetworks": [{"name": "vnet-hub", "addressSpace": ["10.10.0.0/16"], "subnets": [
            {"name": "snet-endpoints", "addressPrefix": "10.10.1.0/24", "networkSecurityGroup": "nsg-hub-endpoints"},
            {"name": "snet-dns-inbound", "addressPrefix": "10.10.3.0/28"}]}],
        "privateLinkScopes": [{"name": "pls-arc-retail", "publicNetworkAccess": "Disabled"}],
        "privateDnsZones": [{"name": z, "virtualNetworkLinks": [{"virtualNetwork": "vnet-hub"}]} for z in ZONES],
        "privateEndpoints": [{"name": "pe-arc-retail", "subnet": "vnet-hub/snet-endpoints",
                              "privateLinkServiceId": "pls-arc-retail", "groupIds": ["hybridcompute"],
                              "privateDnsZoneGroup": ZONES}],
        "dnsForwarders": [{"name": "dnspr-hub-inbound", "kind": "privateResolverInbound",
                           "virtualNetwork": "vnet-hub", "ipAddress": "10.10.3.4"}],
        "sites": [],
        "clusters": [],
    }
    for i in range(sites):
        prefix = site_prefix(i)
        base = prefix.rsplit(".", 1)[0]
        doc["sites"].append({
            "name": f"store-{i:05d}",
            "addressSpace": [prefix],
            "connections": [{"type": "ExpressRoute" if i % 2 == 0 else "SiteToSiteVPN", "virtualNetwork": "vnet-hub"}],
            "dns": ({"address": f"{base}.53", "upstream": "8.8.8.8"} if step and i % step == 0 and i // step < broken_sites
                    else {"address": f"{base}.53",
                          "conditionalForwarders": [{"zone": z, "targets": ["10.10.3.4"]} for z in ARC_FORWARDED]}),
            "firewall": {"outbound": TAGS_OUT, "inbound": TAGS_IN},
        })
    for c in range(clusters):
        doc["clusters"].append({
            "name": f"k3s-{c:06d}",
            "resourceGroup": "rg-arc-clusters",
            "site": f"store-{c % sites:05d}",
            "privateLinkState": "Enabled",
            "privateLinkScopeResourceId": "pls-arc-retail",
            "extensions": ["microsoft.flux"],
            "tools": {"connectedk8s": "1.11.2", "azureCli": "2.70.0"},
        })
    return doc


def dump_yaml(doc: dict, out) -> None:
    """Block YAML with one flow mapping per list item: readable, and quick to write and parse."""
    for key, value in doc.items():
        if isinstance(value, dict):
            out.write(f"{key}: {json.dumps(value)}\n")
            continue
        out.write(f"{key}:\n")
        for item in value:
            out.write(f"  - {json.dumps(item)}\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clusters", type=int, default=1000)
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--broken-sites", type=int, default=0,
                    help="this many sites forward DNS to a public resolver (findings to report)")
    ap.add_argument("--format", choices=("yaml", "json"), default=None, help="default: from the file name")
    ap.add_argument("-o", "--output", default="-")
    args = ap.parse_args(argv)
    fmt = args.format or ("json" if args.output.endswith(".json") else "yaml")
    doc = topology(args.clusters, args.sites, args.broken_sites)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    try:
        if fmt == "json":
            json.dump(doc, out, indent=1)
            out.write("\n")
        else:
            out.write(f"# generated: bench/gen_topology.py --clusters {args.clusters} --sites {args.sites} "
                      f"--broken-sites {args.broken_sites}\n")
            dump_yaml(doc, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
