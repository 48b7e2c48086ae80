"""Read a topology file (YAML or JSON) into a validated, indexed topology.

Fast path first: parse without line information, convert with msgspec, build the
index. Only when something is wrong do we compose the YAML node tree to say on
which line the problem is, so a 100k-cluster file costs what parsing costs.
"""

from __future__ import annotations

import difflib
import gc
import re
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import msgspec
import yaml

from arclink.model import schema
from arclink.model.address_space import topology_overlap
from arclink.model.transit import topology_remote_gateways
from arclink.model.errors import TopologyError
from arclink.model.index import Index, build_index
from arclink.model.input_limits import check_aliases, composer_for, read_regular_file

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: str | Path) -> Index:
    """Load and index a topology file; raises ``TopologyError`` with file and line."""
    return loads(read_topology(path), file=str(Path(path)))


def read_topology(path: str | Path) -> str:
    """A topology file's text; raises ``TopologyError`` when it cannot be read as UTF-8.

    Only a regular file of at most ``input_limits.MAX_FILE_BYTES`` is read: a FIFO would block forever and
    /dev/zero would fill memory, so the file is opened without blocking and checked before reading.
    """
    p = Path(path)
    try:
        data = read_regular_file(p)
    except FileNotFoundError:
        raise TopologyError(f"file not found: {p}. Check the path.", file=str(p)) from None
    except IsADirectoryError:
        raise TopologyError(f"{p} is a directory; give a topology file (YAML or JSON).", file=str(p)) from None
    except OSError as exc:
        raise TopologyError(f"cannot read the file: {exc.strerror}.", file=str(p)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TopologyError(f"the file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save it as UTF-8 "
                            "YAML or JSON.", file=str(p), line=line) from None


def loads(text: str, file: str = "<topology>") -> Index:
    with collector_paused():
        try:
            doc = parse_document(text, file)
            topo = to_topology(doc, text, file)
        except RecursionError:  # the parsers and msgspec refuse deep nesting this way
            raise TopologyError("the document is nested too deeply to be a topology; a topology is a few levels "
                                "of mappings and lists.", file=file) from None
        try:
            ix = build_index(topo)
            # Azure refuses these, so the file is refused as it would be
            refused = topology_overlap(ix) or topology_remote_gateways(ix)
            if refused is not None:
                raise refused
            return ix
        except TopologyError as exc:
            exc.file = file
            exc.line = exc.line or line_of(text, exc.path)
            raise


@contextmanager
def collector_paused() -> Iterator[None]:
    """Building a big topology or index allocates millions of objects and no cycles worth collecting:
    the cyclic collector would rescan them again and again (3x the load time at 100k clusters), and
    each pass stops every thread of the process."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def parse_document(text: str, file: str) -> Any:
    if not text.strip():
        raise TopologyError("the file is empty; write a topology (see 'arclink schema' and examples/).", file=file, line=1)
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            doc = msgspec.json.decode(text.encode())
        except msgspec.DecodeError as exc:
            line = _json_error_line(text, str(exc))
            raise TopologyError(f"malformed JSON: {_json_problem(str(exc))}.", file=file, line=line) from None
    else:
        doc = _parse_yaml(text, file)
    if doc is None:
        raise TopologyError("the file has no content; write a topology (see 'arclink schema').", file=file, line=1)
    if not isinstance(doc, dict):
        raise TopologyError(f"a topology is a mapping of sections (sites, clusters, ...), not a {type(doc).__name__}.",
                            file=file, line=1)
    return doc


def _parse_yaml(text: str, file: str) -> Any:
    """YAML 1.2 with yaml-rs (25x faster than PyYAML on big files, refuses duplicate keys); PyYAML words the errors."""
    yaml_rs: Any
    try:
        import yaml_rs
    except ImportError:  # the slower parser still gives the same documents for plain topologies
        yaml_rs = None
    if yaml_rs is not None:
        try:
            return yaml_rs.loads(text)
        except Exception as exc:  # yaml_rs.YAMLDecodeError, or a value it cannot build
            fast_error = str(exc)
    loader = composer_for(text, _Loader)
    try:
        root = yaml.compose(text, Loader=loader)
        check_aliases(root, file)
        doc = _construct(text, root, loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TopologyError(f"malformed YAML: {problem}.", file=file,
                            line=(mark.line + 1) if mark else None) from None
    if yaml_rs is None:
        return doc
    # PyYAML accepted what yaml-rs refused: a duplicate key (PyYAML silently keeps the last one) or YAML 1.2 detail.
    dup = _duplicate_key(root)
    if dup:
        key, path, line = dup
        raise TopologyError(f"duplicate key '{key}'; each key may appear once in a mapping (the first would be lost).",
                            path=path, file=file, line=line)
    m = re.search(r"line (\d+)", fast_error)
    reason = fast_error.strip().splitlines()[-1].strip()
    raise TopologyError(f"malformed YAML: {reason}.", file=file, line=int(m.group(1)) if m else None)


def _construct(text: str, root: Any, loader_class: Any) -> Any:
    """The document of an already composed node tree (aliases stay shared objects, as in ``yaml.load``)."""
    if root is None:
        return None
    loader = loader_class(text)
    try:
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _duplicate_key(root: Any) -> tuple[str, str, int] | None:
    """The first key that appears twice in one mapping: (key, JSON path, line).

    Each node is visited once, however many aliases point at it.
    """
    if root is None:
        return None
    visited: set[int] = set()
    todo = [(root, "$")]
    while todo:
        node, path = todo.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for k, v in node.value:
                key = getattr(k, "value", None)
                if isinstance(key, str):
                    if key in seen:
                        return key, f"{path}.{key}", k.start_mark.line + 1
                    seen.add(key)
                todo.append((v, f"{path}.{key}"))
        elif isinstance(node, yaml.SequenceNode):
            todo += [(v, f"{path}[{i}]") for i, v in enumerate(node.value)]
    return None


def to_topology(doc: dict, text: str = "", file: str = "<topology>") -> schema.Topology:
    try:
        return msgspec.convert(doc, schema.Topology, str_keys=True)
    except msgspec.ValidationError as exc:
        message, path = _explain_validation(str(exc))
        raise TopologyError(message, path=path, file=file, line=line_of(text, path) if text else None) from None


# --- messages ------------------------------------------------------------------------------

_AT = re.compile(r" - at `(\$[^`]*)`$")


def _explain_validation(raw: str) -> tuple[str, str]:
    m = _AT.search(raw)
    path = m.group(1) if m else "$"
    body = raw[: m.start()] if m else raw
    unknown = re.match(r"Object contains unknown field `([^`]*)`", body)
    if unknown:
        key = unknown.group(1)
        fields = _fields_at(path)
        close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else (f"; expected one of: {', '.join(sorted(fields))}." if fields else ".")
        return f"unknown key '{key}'{hint}", f"{path}.{key}" if path != "$" else f"$.{key}"
    missing = re.match(r"Object missing required field `([^`]*)`", body)
    if missing:
        return f"required key '{missing.group(1)}' is missing; add it.", path
    expected = re.match(r"Expected `([^`]*)`, got `([^`]*)`", body)
    if expected:
        want = _plain_type(expected.group(1))
        allowed = _allowed_at(path)
        if expected.group(2) == "bool" and want == "a string":
            # YAML 1.1 reads yes/no/on/off/true/false unquoted as booleans.
            return (f"expected a string{allowed}, got true or false: YAML reads unquoted yes/no/on/off as booleans; "
                    "write the value in quotes."), path
        return f"expected {want}{allowed}, got {_plain_type(expected.group(2))}.", path
    invalid = re.match(r"Invalid enum value '?([^']*)'?", body)
    if invalid:
        return f"'{invalid.group(1)}' is not an allowed value{_allowed_at(path)}.", path
    return _clean_msgspec(body) + ".", path


def _plain_type(t: str) -> str:
    return {"str": "a string", "int": "an integer", "bool": "true or false", "array": "a list",
            "object": "a mapping", "null": "nothing", "float": "a number",
            "str | null": "a string", "int | null": "an integer"}.get(t, t)


def _clean_msgspec(s: str) -> str:
    return s.replace("`", "'").rstrip(".")


def _json_problem(raw: str) -> str:
    body = re.sub(r"^JSON is malformed: ", "", raw)
    body = re.sub(r"\s*\((byte|char) \d+\)", "", body)
    return _clean_msgspec(body)


def _json_error_line(text: str, raw: str) -> int | None:
    m = re.search(r"(?:byte|char) (\d+)", raw)
    if not m:
        return None
    # msgspec counts bytes of the UTF-8 encoding
    return text.encode()[: int(m.group(1))].count(b"\n") + 1


def _walk_type(path: str) -> Any:
    """The schema type at a msgspec path like ``$.clusters[3].tools``."""
    import typing

    t: Any = schema.Topology
    for part in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        key, idx = part
        t = _unwrap(t)
        if key:
            if not (isinstance(t, type) and issubclass(t, msgspec.Struct)):
                return None
            info = {f.encode_name: f.type for f in msgspec.structs.fields(t)}
            t = info.get(key)
        else:
            args = typing.get_args(_unwrap(t))
            t = args[0] if args else None
        if t is None:
            return None
    return _unwrap(t)


def _unwrap(t: Any) -> Any:
    import types
    import typing

    if isinstance(t, types.UnionType) or typing.get_origin(t) is typing.Union:
        non_null = [a for a in typing.get_args(t) if a is not type(None)]
        return non_null[0] if len(non_null) == 1 else t
    return t


def _fields_at(path: str) -> list[str]:
    t = _walk_type(path)
    if isinstance(t, type) and issubclass(t, msgspec.Struct):
        return [f.encode_name for f in msgspec.structs.fields(t)]
    return []


def _allowed_at(path: str) -> str:
    import typing

    t = _walk_type(path)
    if typing.get_origin(t) is typing.Literal:
        return " (allowed: " + ", ".join(str(a) for a in typing.get_args(t)) + ")"
    return ""


# --- lines ---------------------------------------------------------------------------------


def line_of(text: str, path: str) -> int | None:
    """The 1-based line of the node at ``path`` ($.a[2].b), or of its nearest existing parent."""
    return LineFinder(text)(path) if text else None


class LineFinder:
    """Lines of many paths in one file.

    Composing the YAML tree of a 100k-cluster file takes seconds, so for the usual block layout
    (``clusters:`` at column 0, one ``- `` per item) the item is found by scanning lines and only
    its own text is composed; anything else falls back to composing the whole file once.
    """

    def __init__(self, text: str):
        self._text = text
        self._root: yaml.Node | None = None
        self._done = False
        self._lines: list[str] | None = None
        self._sections: dict | None = None  # top-level key -> (key line index, [item line indexes], end)

    def __call__(self, path: str) -> int | None:
        parts = re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]", path)
        fast = self._fast(parts)
        return fast if fast is not None else self._slow(parts)

    # --- the fast path: one top-level section, one item, composed alone ------------------------
    def _fast(self, parts: list[tuple[str, str]]) -> int | None:
        if not parts or not parts[0][0] or self._text.lstrip().startswith(("{", "[")):
            return None
        section = self._section(parts[0][0])
        if section is None:
            return None
        key_line, items, end = section
        if len(parts) == 1:
            return key_line + 1
        idx = parts[1][1]
        if not idx or int(idx) >= len(items):
            return None
        first = items[int(idx)]
        last = items[int(idx) + 1] if int(idx) + 1 < len(items) else end
        if len(parts) == 2:
            return first + 1
        lines = self._lines or []  # set by _section
        try:
            node = yaml.compose("\n".join(lines[first:last]), Loader=_Loader)
        except yaml.YAMLError:
            return None
        if not isinstance(node, yaml.SequenceNode) or len(node.value) != 1:
            return None
        return first + _walk(node.value[0], parts[2:])

    def _section(self, key: str) -> tuple[int, list[int], int] | None:
        if self._sections is None:
            self._lines = self._text.splitlines()
            self._sections = _sections(self._lines)
        return self._sections.get(key)

    # --- the slow path: the whole tree ----------------------------------------------------------
    def _slow(self, parts: list[tuple[str, str]]) -> int | None:
        if not self._done:
            self._done = True
            try:
                self._root = yaml.compose(self._text, Loader=_Loader)
            except yaml.YAMLError:
                self._root = None
        if self._root is None:
            return None
        return _walk(self._root, parts)


def _walk(node: yaml.Node, parts: list[tuple[str, str]]) -> int:
    """1-based line (relative to the node's text) of the deepest node of ``parts`` that exists."""
    best = node.start_mark.line + 1
    for key, idx in parts:
        nxt = None
        if key and isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if getattr(k, "value", None) == key:
                    nxt, best = v, k.start_mark.line + 1
                    break
        elif idx and isinstance(node, yaml.SequenceNode) and int(idx) < len(node.value):
            nxt = node.value[int(idx)]
            best = nxt.start_mark.line + 1
        if nxt is None:
            break
        node = nxt
    return best


_HEAD = re.compile(r"""^(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_\-]+))\s*:(?:\s|$)""")


def _sections(lines: list[str]) -> dict:
    """Top-level key -> (0-based key line, 0-based first line of each item, end line); None if repeated."""
    out: dict = {}
    current: list[Any] | None = None  # [name, key line, item lines, item indent]

    def close(end: int) -> None:
        if current is not None:
            name = current[0]
            out[name] = None if name in out else (current[1], current[2], end)

    for i, line in enumerate(lines):
        stripped = line.lstrip(" ")
        if not stripped or stripped[0] == "#":
            continue
        indent = len(line) - len(stripped)
        is_item = stripped[0] == "-" and (len(stripped) == 1 or stripped[1] in " \t")
        if indent == 0 and not is_item:
            close(i)
            m = _HEAD.match(line)
            current = [m.group(1) or m.group(2) or m.group(3), i, [], None] if m else None
            continue
        if current is not None and is_item:
            if current[3] is None:
                current[3] = indent
            if indent == current[3]:
                current[2].append(i)
    close(len(lines))
    return out
