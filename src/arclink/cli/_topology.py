"""Loading a topology file for a command: one line on stderr and exit 2 when it is unusable."""

from __future__ import annotations

import sys


class Unusable(Exception):
    """The input cannot be used; ``str()`` is the one line to print (file:line: at $.path: message)."""


def load_index(path: str):
    return load_source(path)[0]


def load_source(path: str):
    """(Index, the file's text): for commands that also place findings at their lines."""
    from pathlib import Path

    from arclink.model.errors import TopologyError
    from arclink.model.loader import loads, read_topology

    try:
        text = read_topology(path)
        return loads(text, file=str(Path(path))), text
    except TopologyError as exc:
        raise Unusable(str(exc)) from None
    except RecursionError:
        raise Unusable(f"{path}: the document is nested too deeply to be a topology.") from None


def lint_errors(ix, path: str, *, force: bool, verb: str) -> list:
    """The plan's error findings; refuses (exit 1) unless ``force``, naming the ``--force`` to ``verb`` anyway."""
    from arclink.cli.main import UserError
    from arclink.model import rules

    errors = [f for f in rules.run(ix) if f.severity == "error"]
    if errors and not force:
        ids = sorted({f.rule for f in errors})
        raise UserError(f"the plan has {len(errors)} lint error(s) ({', '.join(ids)}); fix them "
                        f"('arclink lint {path}' shows each) or pass --force to {verb} anyway.", 1)
    return errors


def report_unusable(exc: Unusable) -> int:
    print(str(exc), file=sys.stderr)
    return 2
