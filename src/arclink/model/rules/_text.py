"""Words for the rules' messages: one way to list names, one way to count things."""

from __future__ import annotations

from typing import Iterable, Protocol

from arclink.model.resolved import shown


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def quoted(items: Iterable[_Named | str], limit: int = 3) -> str:
    """'a', 'b', 'c' and 4 more: names for a one-sentence message (with the resource group where
    resources share a name: 'vnet-hub' (rg-a), 'vnet-hub' (rg-b))."""
    names = [f"'{x}'" if isinstance(x, str) else shown(x) for x in items]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def plural(n: int, word: str) -> str:
    """1 record, 2 records."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
