"""Derive the emulator's per-type validation facts from the OpenAPI files.

    python -m arclink.arm.specs.generate > src/arclink/arm/specs/spec_table.json

For each served type, from its model definition: read-only property paths, enum values
(inline or through a local ``$ref``), required paths and defaults, walking nested objects
(not array items) through local ``$ref``s. The input files are verbatim copies of
Azure/azure-rest-api-specs files kept in ``openapi/`` beside this module (the default input);
``openapi/SOURCES.md`` names each file's path and commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# type -> (spec file, root definition)
ROOTS = {
    "Microsoft.HybridCompute/privateLinkScopes": ("hybridcompute-privateLinkScopes-2025-01-13.json", "HybridComputePrivateLinkScope"),
    "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections": ("hybridcompute-privateLinkScopes-2025-01-13.json", "PrivateEndpointConnection"),
    "Microsoft.Kubernetes/connectedClusters": ("hybridkubernetes-connectedClusters-2026-05-01.json", "ConnectedCluster"),
    "Microsoft.KubernetesConfiguration/extensions": ("kubernetesconfiguration-extensions-2025-03-01.json", "Extension"),
    "Microsoft.Network/privateEndpoints": ("network-privateEndpoint-2025-07-01.json", "PrivateEndpoint"),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": ("network-privateEndpoint-2025-07-01.json", "PrivateDnsZoneGroup"),
    "Microsoft.Network/privateDnsZones": ("privatedns-2024-06-01.json", "PrivateZone"),
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": ("privatedns-2024-06-01.json", "VirtualNetworkLink"),
    "Microsoft.Network/privateDnsZones/A": ("privatedns-2024-06-01.json", "RecordSet"),
}
OPENAPI = Path(__file__).with_name("openapi")
TOP_LEVEL_SKIP = {"id", "name", "type", "etag", "systemData", "location", "tags"}


def _resolve(spec: dict, node: dict) -> dict:
    ref = node.get("$ref", "")
    if ref.startswith("#/definitions/"):
        target = spec["definitions"].get(ref.split("/")[-1], {})
        merged = dict(target)
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return merged
    return node


def _walk(spec: dict, node: dict, path: str, out: dict, depth: int = 0) -> None:
    if depth > 4:
        return
    node = _resolve(spec, node)
    props = dict(node.get("properties") or {})
    for parent in node.get("allOf") or []:
        parent = _resolve(spec, parent)
        if parent.get("properties") and "$ref" not in parent:
            props.update(parent["properties"])
    for req in node.get("required") or []:
        if path or req not in TOP_LEVEL_SKIP:
            out["required"].append(f"{path}{req}")
    for name, sub in props.items():
        if not path and name in TOP_LEVEL_SKIP:
            continue
        full = f"{path}{name}"
        res = _resolve(spec, sub)
        if sub.get("readOnly") or res.get("readOnly") and "$ref" not in sub:
            out["readonly"].append(full)
            continue
        if "enum" in res:
            out["enums"][full] = list(res["enum"])
        if "default" in res and not isinstance(res["default"], (dict, list)):
            out["defaults"][full] = res["default"]
        if res.get("type") == "object" or res.get("properties") or res.get("allOf"):
            _walk(spec, res, full + ".", out, depth + 1)


def generate(spec_dir: Path) -> dict:
    table = {}
    for rtype, (fname, root) in ROOTS.items():
        spec = json.loads((spec_dir / fname).read_text(encoding="utf-8"))
        out: dict[str, Any] = {"source": f"{fname}#/definitions/{root}", "readonly": [], "enums": {}, "required": [],
                               "defaults": {}}
        _walk(spec, spec["definitions"][root], "", out)
        out["readonly"].sort()
        out["required"].sort()
        table[rtype] = out
    return table


if __name__ == "__main__":
    d = Path(sys.argv[1]) if len(sys.argv) > 1 else OPENAPI
    json.dump(generate(d), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
