"""Limits on reading untrusted topology input: what a file may be, how big, how its YAML may nest
and alias (docs/security.md). ``arclink.model.loader`` applies them; each refusal is a
``TopologyError`` whose message is one sentence.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from arclink.model.errors import TopologyError

# Limits on what a topology file may cost to read (docs/security.md). A topology of 100,000
# clusters is about 20 MiB of YAML; anchors and aliases are rare in hand-written topologies.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ALIASES = 10_000
MAX_EXPANDED_NODES = 1_000_000  # nodes after expanding aliases, when that is also 10x the nodes written


def read_regular_file(p: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES, opened without blocking (a FIFO would block)."""
    fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise TopologyError(f"the file is {_kind_of(st.st_mode)}, not a regular file; give a topology file "
                                "(YAML or JSON).", file=str(p))
        if st.st_size > MAX_FILE_BYTES:
            raise TopologyError(_too_big(p), file=str(p))
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:  # st_size can lie (a growing file, /proc): count what is read
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise TopologyError(_too_big(p), file=str(p))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _too_big(p: Path) -> str:
    return (f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the most a topology file may be; "
            "split the topology or check that this is the right file.")


def _kind_of(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "a special file")


# libyaml's composer recurses in C once per level of nesting, and overflows the C stack somewhere
# past 20,000 levels (a crash, not an exception). PyYAML's own composer recurses in Python, where
# the recursion limit turns that into a RecursionError; it is 4x slower, so it is used only when
# the text could nest that deep.
_C_SAFE_DEPTH = 5_000


def composer_for(text: str, fast: Any) -> Any:
    """``fast`` (libyaml's loader) when ``text`` cannot nest deep enough to crash it, else PyYAML's own."""
    if fast is yaml.SafeLoader or _nesting_bound(text) <= _C_SAFE_DEPTH:
        return fast
    return yaml.SafeLoader


def _nesting_bound(text: str) -> int:
    """An upper bound of the YAML's nesting depth: every flow bracket may open a level, and on one line
    the block levels are at most its indentation plus its indicators (- ? :)."""
    flow = text.count("[") + text.count("{")
    if flow > _C_SAFE_DEPTH:
        return flow
    block = max((len(line) - len(line.lstrip(" ")) + line.count("-") + line.count(":") + line.count("?")
                 for line in text.splitlines()), default=0)
    return flow + block + 1


def check_aliases(root: Any, file: str) -> None:
    """Refuse a "billion laughs" document: too many aliases, or aliases that expand to too many nodes.

    The composed tree shares each anchored node among its aliases, so it is walked once per node
    (remembering the visited ones) and each node's expanded size is summed from its children's.
    """
    if root is None:
        return
    expanded: dict[int, int] = {}
    parents_seen: set[int] = set()
    aliases = 0
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            expanded[key] = 1 + sum(expanded.get(id(c), 0) for c in _children(node))
            continue
        if key in parents_seen:  # a second reference to a node: what an alias is in the composed tree
            aliases += 1
            if aliases > MAX_ALIASES:
                raise TopologyError(f"the YAML uses more than {MAX_ALIASES:,} aliases (*name), the most a topology "
                                    "may use; write the values out.", file=file)
            continue
        parents_seen.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node))
    total = expanded.get(id(root), 0)
    if total > MAX_EXPANDED_NODES and total > 10 * len(parents_seen):
        raise TopologyError(f"the YAML's aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} values "
                            f"({len(parents_seen):,} written); a topology that large is an alias bomb, not a plan.",
                            file=file)


def _children(node: Any) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for kv in node.value for n in kv]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
