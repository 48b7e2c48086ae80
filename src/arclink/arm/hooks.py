"""What a resource type may do beyond storing its body, and the store view its hooks get.

Each module of ``arm.resources`` declares one ``Hooks`` per type it gives behaviour to;
``arm.resources.HOOKS`` is the table the engine dispatches on. Hooks see the store
through ``ResourceStore`` (reads, writes, the on-premises meta), never the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from arclink.arm.routes import Route

Body = dict[str, Any]  # an ARM resource body as decoded JSON


class ResourceStore(Protocol):
    """The part of ``arm.store.Store`` that resource hooks and the model view use."""

    @property
    def bodies(self) -> Mapping[str, bytes]: ...

    @property
    def network_keys(self) -> Mapping[str, None]: ...

    @property
    def meta(self) -> Mapping[str, Any]: ...

    def get(self, key: str) -> bytes | None: ...

    def get_obj(self, key: str) -> Body | None: ...

    def put(self, key: str, obj: Body) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def list_keys(self, coll: str) -> list[str]: ...


# prepare(store, route, new, old): complete and check ``new`` before it is stored (raise ArmError to refuse)
Prepare = Callable[[ResourceStore, Route, Body, "Body | None"], None]
# after_put(store, route, new, old): side effects once ``new`` is stored (same batch)
AfterPut = Callable[[ResourceStore, Route, Body, "Body | None"], None]
# before_delete / after_delete(store, route, old): refusals before, side effects after a delete
OnDelete = Callable[[ResourceStore, Route, Body], None]
# check_patch(body, old): refusals a PATCH meets before it is merged
CheckPatch = Callable[[Body, Body], None]
# an action (POST .../{action}) on a stored resource: its 200 answer
Action = Callable[[Body], Body]


def _nothing(*_args: Any) -> None:
    return None


@dataclass(frozen=True)
class Hooks:
    prepare: Prepare = _nothing
    after_put: AfterPut = _nothing
    before_delete: OnDelete = _nothing  # not called for children deleted with their parent
    after_delete: OnDelete = _nothing
    check_patch: CheckPatch = _nothing
    # writes are checked against the network model they would make (so the live model always builds)
    check_model: bool = False
    # the server sets properties.provisioningState (record sets have none)
    provisioning_state: bool = True
    actions: Mapping[str, Action] = field(default_factory=dict)


PLAIN = Hooks()  # a type without behaviour: just stored
