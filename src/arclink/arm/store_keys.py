"""What a stored key is, from the key alone: the lists it appears in, and the key sets ``Store`` keeps."""

from __future__ import annotations

__all__ = ["collection_keys", "is_network_key", "is_scope_key"]


def collection_keys(key: str) -> tuple[str, ...]:
    """The list URLs (lower-case) a resource appears in: its parent collection and, for
    top-level resources in a resource group, the subscription-wide list."""
    coll = key.rsplit("/", 1)[0]
    parts = key.split("/")
    # /subscriptions/s/resourcegroups/rg/providers/ns/type/name -> /subscriptions/s/providers/ns/type
    if len(parts) == 9 and parts[3] == "resourcegroups" and parts[5] == "providers":
        return coll, f"/subscriptions/{parts[2]}/providers/{parts[6]}/{parts[7]}"
    return (coll,)


def is_network_key(key: str) -> bool:
    """A resource group's key, or a networking resource's (Microsoft.Network): ``Store.network_keys``."""
    return "/providers/microsoft.network/" in key or key.count("/") == 4


def is_scope_key(key: str) -> bool:
    """An Azure Arc Private Link Scope's key or its children's (endpoint connections): ``Store.scope_keys``."""
    return "/providers/microsoft.hybridcompute/privatelinkscopes/" in key
