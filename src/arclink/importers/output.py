"""Writing what an import found: a topology file (stable bytes), or one site's DNS server."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from arclink.model import schema


def dumps(topo: schema.Topology, fmt: str = "yaml") -> str:
    """The topology as YAML or JSON: defaults left out, keys in the schema's order, same input same bytes."""
    doc = msgspec.to_builtins(topo)
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    import yaml

    dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120))


def site_dns_text(site: str, dns: schema.SiteDns) -> str:
    """``sites: [{name, dns}]`` as YAML, to paste into a topology."""
    import yaml

    doc = {"sites": [{"name": site, "dns": msgspec.to_builtins(dns)}]}
    return str(yaml.safe_dump(doc, sort_keys=False, width=120))


def merge_site_dns(topo: schema.Topology, site: str, dns: schema.SiteDns) -> schema.Topology:
    """The topology with ``site``'s DNS server replaced by ``dns`` (the site added when it is new).

    A configuration that does not say the server's own address keeps the one the topology has.
    """
    import copy

    sites = copy.deepcopy(list(topo.sites))
    for i, s in enumerate(sites):
        if s.name.lower() == site.lower():
            if not dns.address and s.dns is not None:
                dns = msgspec.structs.replace(dns, address=s.dns.address)
            sites[i] = msgspec.structs.replace(s, dns=dns)
            break
    else:
        sites.append(schema.Site(name=site, address_space=[], dns=dns))
    return msgspec.structs.replace(topo, sites=sites)
