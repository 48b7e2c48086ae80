"""Body validation against a type's descriptor: JSON kinds, enums, read-only and required properties.

Used by the engine for every write and by the resource hooks for bodies nested in a
parent (a VNet's inline subnets, an NSG's inline security rules).
"""

from __future__ import annotations

from typing import Any

from arclink.arm import types
from arclink.arm.errors import bad_request

_KIND_TYPES: dict[str, type] = {"str": str, "bool": bool, "list": list, "obj": dict, "map": dict}
_KIND_NAMES = {"str": "a string", "bool": "a boolean", "list": "an array", "obj": "an object", "map": "an object",
               "int": "an integer"}


def walk(obj: Any, path: str) -> tuple[bool, Any]:
    """(present, value) of the dotted ``path`` in ``obj``."""
    cur = obj
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return False, None
        cur = cur[p]
    return True, cur

def validate_body(rtype: types.RType, body: dict, old: dict | None, patching: bool = False) -> None:
    """Types, enums (normalised to the spec's casing), read-only and required properties."""
    if "properties" in body and body["properties"] is not None and not isinstance(body["properties"], dict):
        raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                   "'properties' must be an object.", "properties")
    if "tags" in body and body["tags"] is not None:
        tags = body["tags"]
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                       "'tags' must be an object of strings.", "tags")
    if "location" in body and body["location"] is not None and not isinstance(body["location"], str):
        raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                   "'location' must be a string.", "location")
    for path, kind in rtype.fields.items():
        present, value = walk(body, path)
        if not present or value is None:
            continue
        if isinstance(kind, tuple) and kind[0] == "enum":
            if not isinstance(value, str) or value.lower() not in {v.lower() for v in kind[1]}:
                raise bad_request("InvalidRequestContent" if not isinstance(value, str) else "InvalidParameter",
                                  f"The value '{value}' of '{path}' is not valid. Allowed values: "
                                  f"{', '.join(kind[1])}.", path)
            canon = next(v for v in kind[1] if v.lower() == value.lower())
            parent = body
            for p in path.split(".")[:-1]:
                parent = parent[p]
            parent[path.split(".")[-1]] = canon
        elif kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise bad_request("InvalidRequestContent", f"The request content was invalid and could not be "
                                                           f"deserialized: '{path}' must be an integer.", path)
        else:
            want = _KIND_TYPES[kind]
            if not isinstance(value, want) or (want is not bool and isinstance(value, bool)):
                raise bad_request("InvalidRequestContent", f"The request content was invalid and could not be "
                                                           f"deserialized: '{path}' must be {_KIND_NAMES[kind]}.", path)
            if kind == "map" and isinstance(value, dict) and not all(isinstance(v, str) for v in value.values()):
                raise bad_request("InvalidRequestContent", f"'{path}' must be an object of strings.", path)
    if not patching:
        for path in rtype.readonly:
            present, value = walk(body, path)
            if present and value is not None:
                _, current = walk(old or {}, path)
                if value != current:
                    raise bad_request("InvalidRequestContent",
                                      f"The property '{path}' is read-only and cannot be set in a request; remove it "
                                      "from the body.", path)
    for path in rtype.required:
        present, value = walk(body, path)
        if not present or value is None:
            raise bad_request("InvalidRequestContent" if path.startswith("properties") else "MissingRequiredProperty",
                              f"The property '{path}' is required; add it to the request body.", path)
