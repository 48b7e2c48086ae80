"""Loading a topology file for a command: one line on stderr and exit 2 when it is unusable."""

from __future__ import annotations

import sys


class Unusable(Exception):
    """The input cannot be used; ``str()`` is the one line to print (file:line: at $.path: message)."""


def load_index(path: str):
    from arclink.model.errors import TopologyError
    from arclink.model.loader import load

    try:
        return load(path)
    except TopologyError as exc:
        raise Unusable(str(exc)) from None
    except RecursionError:
        raise Unusable(f"{path}: the document is nested too deeply to be a topology.") from None


def report_unusable(exc: Unusable) -> int:
    print(str(exc), file=sys.stderr)
    return 2
