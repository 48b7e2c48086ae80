"""The JSON of an Azure Resource Graph query -> the ARM resources ``arm_codec`` reads.

Accepted shapes: what ``az graph query -o json`` prints (``{"count", "data": [rows], "skip_token"}``,
or a bare list of rows from older versions of the extension) and the REST answer with a table
(``{"data": {"columns": [{"name"}], "rows": [[...]]}}``). Several files (the pages of a query
followed with ``--skip-token``) are merged. A row is a resource: ``id``, ``type``, ``name``,
``location``, ``tags``, ``properties``. The query docs/import.md gives unions ``resources``,
``resourcecontainers`` (resource groups) and ``kubernetesconfigurationresources`` (extensions).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from arclink.importers.errors import at, read_text

EXPECTED = ("the JSON of an Azure Resource Graph query: az graph query -q QUERY --first 1000 -o json "
            "(see docs/import.md)")
_TYPE_ALIASES = {"microsoft.resources/subscriptions/resourcegroups": "microsoft.resources/resourcegroups"}


def read_graph(*paths: str) -> list[dict]:
    out: list[dict] = []
    for p in paths:
        out += _read_one(Path(p))
    return out


def _read_one(path: Path) -> list[dict]:
    text = read_text(path, "utf-8-sig")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated")
        what = "the JSON ends too early (a truncated file?)" if cut else exc.msg
        raise at(str(path), exc.lineno, f"not JSON: {what} at column {exc.colno}; expected {EXPECTED}.") from None
    rows, where = _rows(doc, path, text)
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("type"), str):
            raise at(str(path), _line_of(text, [*where, i]),
                     f"row {i} is not a resource (an object with string 'id' and 'type'); expected {EXPECTED}.")
        rtype = row["type"].lower()
        if rtype == "microsoft.resources/subscriptions":
            continue
        r: dict[str, Any] = {k: row[k] for k in ("id", "name", "type", "location", "tags", "properties", "identity")
                             if k in row and row[k] is not None}
        r["type"] = _TYPE_ALIASES.get(rtype, row["type"])
        if isinstance(r.get("properties"), str):  # Resource Graph projections may stringify dynamic columns
            try:
                r["properties"] = json.loads(r["properties"])
            except json.JSONDecodeError:
                raise at(str(path), _line_of(text, [*where, i]),
                         f"row {i}: 'properties' is a string that is not JSON; project it as a dynamic column.") from None
        out.append(r)
    return out


def _rows(doc: Any, path: Path, text: str) -> tuple[list, list]:
    if isinstance(doc, list):
        return doc, []
    if isinstance(doc, dict):
        data = doc.get("data")
        if isinstance(data, list):
            return data, ["data"]
        if isinstance(data, dict) and isinstance(data.get("columns"), list) and isinstance(data.get("rows"), list):
            names = [c.get("name") if isinstance(c, dict) else None for c in data["columns"]]
            rows = []
            for i, row in enumerate(data["rows"]):
                if not isinstance(row, list) or len(row) != len(names):
                    raise at(str(path), _line_of(text, ["data", "rows", i]),
                             f"table row {i} does not have the {len(names)} columns the table names.")
                rows.append(dict(zip(names, row)))
            return rows, ["data", "rows"]
    raise at(str(path), 1, f"no 'data' list of rows (the file holds {_shape(doc)}); expected {EXPECTED}.")


def _shape(doc: Any) -> str:
    if isinstance(doc, dict):
        keys = ", ".join(list(doc)[:5])
        return f"an object with keys {keys}" if keys else "an empty object"
    return f"a JSON {type(doc).__name__}"


def _line_of(text: str, path: list) -> int:
    """The line where the value at ``path`` starts (YAML reads JSON with positions); 1 if unknown."""
    try:
        import yaml

        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for step in path:
            if isinstance(step, int):
                node = node.value[step]
            else:
                node = next(v for k, v in node.value if k.value == step)
        return int(node.start_mark.line) + 1
    except Exception:  # positions are a courtesy; the message stands without them
        return 1
