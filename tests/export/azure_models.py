"""JSON Schemas of ARM resource bodies, built from the published Azure SDK models (PyPI).

The Azure SDK packages pinned in the test extras (azure-mgmt-network, -privatedns,
-hybridcompute, -hybridkubernetes, -kubernetesconfiguration, -resource) are generated from the
Azure REST API specs; their models name every property a resource body may carry, its JSON
type, and which properties are read-only. ``schema_for(resource_type)`` turns the model of an
ARM type into a JSON Schema (unknown properties and read-only ones refused), so the templates
can be validated with ``jsonschema`` against Azure's own definitions.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import sys
import typing

import azure.mgmt.hybridcompute.models as hc
import azure.mgmt.hybridkubernetes.models as hk
import azure.mgmt.kubernetesconfiguration.models as kc
import azure.mgmt.network.models as nm
import azure.mgmt.privatedns.models as pd
import azure.mgmt.resource.resources.models as rm

MODELS = {
    "Microsoft.Resources/resourceGroups": rm.ResourceGroup,
    "Microsoft.Network/networkSecurityGroups": nm.NetworkSecurityGroup,
    "Microsoft.Network/virtualNetworks": nm.VirtualNetwork,
    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings": nm.VirtualNetworkPeering,
    "Microsoft.Network/privateEndpoints": nm.PrivateEndpoint,
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": nm.PrivateDnsZoneGroup,
    "Microsoft.Network/privateDnsZones": pd.PrivateZone,
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": pd.VirtualNetworkLink,
    "Microsoft.Network/privateDnsZones/A": pd.RecordSet,
    "Microsoft.Network/privateDnsZones/AAAA": pd.RecordSet,
    "Microsoft.Network/privateDnsZones/CNAME": pd.RecordSet,
    "Microsoft.HybridCompute/privateLinkScopes": hc.HybridComputePrivateLinkScope,
    "Microsoft.Kubernetes/connectedClusters": hk.ConnectedCluster,
    "Microsoft.KubernetesConfiguration/extensions": kc.Extension,
}
# Keys of a template resource that are the template's, not the resource body's.
TEMPLATE_KEYS = ("type", "apiVersion", "name", "dependsOn", "scope", "condition", "copy", "comments")


def schema_for(resource_type: str) -> dict:
    """A JSON Schema for the body of ``resource_type`` (without the template keys)."""
    defs: dict[str, dict] = {}
    root = _model(MODELS[resource_type], defs)
    return {**root, "$defs": defs}


def _ref(cls, defs: dict) -> dict:
    name = f"{cls.__module__}.{cls.__qualname__}"
    if name not in defs:
        defs[name] = {}  # placeholder: models refer to themselves
        defs[name] = _model(cls, defs)
    return {"$ref": f"#/$defs/{name}"}


def _model(cls, defs: dict) -> dict:
    props: dict[str, typing.Any] = {}
    if hasattr(cls, "_attribute_map"):  # msrest-style models
        readonly = {k for k, v in getattr(cls, "_validation", {}).items() if v.get("readonly")}
        for attr, spec in cls._attribute_map.items():
            path = [p.replace("\\.", ".") for p in spec["key"].replace("\\.", "\0").split(".")]
            path = [p.replace("\0", ".") for p in path]
            leaf = _read_only(path[-1]) if attr in readonly else _msrest_type(spec["type"], sys.modules[cls.__module__], defs)
            _put(props, path, leaf)
    else:  # typespec-style models (azure.mgmt.*._utils.model_base)
        try:
            cls()  # the field table is filled in on first use
        except TypeError:
            pass
        hints = _hints(cls)
        for attr, field in cls._attr_to_rest_field.items():
            readonly = list(field._visibility or []) == ["read"]
            props[field._rest_name] = _read_only(field._rest_name) if readonly else _py_type(hints.get(attr, typing.Any), defs)
    return {"type": "object", "properties": props, "additionalProperties": False}


def _read_only(name: str) -> dict:
    """Refuses any value; the title names the property in the error message."""
    return {"not": {}, "title": f"read-only property {name}"}


def _put(props: dict, path: list[str], leaf) -> None:
    for p in path[:-1]:
        node = props.setdefault(p, {"type": "object", "properties": {}, "additionalProperties": False})
        props = node["properties"]
    props[path[-1]] = leaf


def _hints(cls) -> dict:
    module = sys.modules[cls.__module__]
    namespace = dict(vars(module))
    models_pkg = cls.__module__.rsplit(".", 1)[0]
    namespace.setdefault("_models", importlib.import_module(models_pkg))
    try:  # type aliases the models import only for type checkers
        namespace.setdefault("_unions", importlib.import_module(models_pkg.rsplit(".", 1)[0] + "._unions"))
    except ImportError:
        pass
    out: dict = {}
    for klass in reversed(cls.__mro__):
        if "__annotations__" in vars(klass):
            out.update(typing.get_type_hints(klass, globalns={**vars(sys.modules[klass.__module__]), **namespace}))
    return out


def _py_type(t, defs: dict) -> dict:
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        if any(a is str for a in inner) or all(isinstance(a, type) and issubclass(a, enum.Enum) for a in inner):
            return {"type": "string"}  # ARM enums are extensible strings
        return _py_type(inner[0], defs) if len(inner) == 1 else {"anyOf": [_py_type(a, defs) for a in inner]}
    if origin in (list, typing.List):
        return {"type": "array", "items": _py_type(args[0], defs)}
    if origin in (dict, typing.Dict):
        return {"type": "object", "additionalProperties": _py_type(args[1], defs)}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if t is str or (isinstance(t, type) and issubclass(t, enum.Enum)) or t in (datetime.datetime, datetime.date):
        return {"type": "string"}
    if t is bool:
        return {"type": "boolean"}
    if t is int:
        return {"type": "integer"}
    if t is float:
        return {"type": "number"}
    if isinstance(t, type) and hasattr(t, "_is_model"):
        return _ref(t, defs)
    return {}


def _msrest_type(name: str, module, defs: dict) -> dict:
    if name.startswith("[") and name.endswith("]"):
        return {"type": "array", "items": _msrest_type(name[1:-1], module, defs)}
    if name.startswith("{") and name.endswith("}"):
        return {"type": "object", "additionalProperties": _msrest_type(name[1:-1], module, defs)}
    simple = {"str": {"type": "string"}, "bool": {"type": "boolean"}, "int": {"type": "integer"},
              "float": {"type": "number"}, "iso-8601": {"type": "string"}, "object": {}}
    if name in simple:
        return simple[name]
    cls = getattr(module, name, None)
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return {"type": "string"}
    if isinstance(cls, type) and hasattr(cls, "_attribute_map"):
        return _ref(cls, defs)
    return {}
