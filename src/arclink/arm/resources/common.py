"""What several resource families share: reference checks and parent/child mirroring."""

from __future__ import annotations

from typing import Any

from arclink.arm.errors import ArmError, bad_request
from arclink.arm.hooks import Body, ResourceStore
from arclink.model.index import parse_arm_id


def ref_missing(ref: str, by: str) -> ArmError:
    return bad_request("InvalidResourceReference", f"Resource {ref} referenced by resource {by} was not found. Please "
                                                   "make sure that the referenced resource exists, and that both "
                                                   "resources are in the same region.")


def arm_id_or_fail(value: Any, path: str) -> dict[str, str]:
    """The parts of an ARM id in a body (at ``path``), else ARM's LinkedInvalidPropertyId."""
    parts = parse_arm_id(value) if isinstance(value, str) else None
    if not parts:
        raise bad_request("LinkedInvalidPropertyId", f"Property id '{value}' at path '{path}' is invalid. Expect fully "
                                                     "qualified resource Id that start with '/subscriptions/{subscriptionId}' "
                                                     "or '/providers/{resourceProviderNamespace}/'.", path)
    return parts


def type_of(obj: Body | None) -> str:
    return ((obj or {}).get("type") or "").lower()


def mirror(store: ResourceStore, parent_id: str, prop: str, collection: str) -> None:
    """Copy a parent's child resources into its inline array property (ARM shows them both ways)."""
    parent = store.get_obj(parent_id)
    if parent is None:
        return
    children = [store.get_obj(k) for k in store.list_keys(f"{parent_id.lower()}/{collection}")]
    parent.setdefault("properties", {})[prop] = [c for c in children if c]
    store.put(parent_id, parent)


def sync_children(store: ResourceStore, parent_key: str, collection: str, children: list[Body]) -> None:
    """Store the inline children as child resources and drop the stored ones the parent no longer lists."""
    keep = set()
    for child in children:
        store.put(child["id"], child)
        keep.add(child["id"].lower())
    for k in store.list_keys(f"{parent_key}/{collection}"):
        if k not in keep:
            store.delete(k)
