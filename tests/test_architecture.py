"""The layout is the architecture: this test walks every import in src/arclink and fails on an
import cycle, on a face importing another face, and on a module over 500 lines.

Faces are the packages around the model that must only meet in composition (``cli``, ``stack``,
the lab and the demo): they may import ``arclink.model`` and the small shared modules, never each
other. A package re-exporting its own submodules from ``__init__`` is not a cycle worth reporting.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
FACES = {"arm", "dns", "gateway", "agent", "doctor", "export", "lint", "entra", "portal", "importers"}
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    mods = {}
    for path in (SRC / "arclink").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


def _graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = [target] + [f"{target}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                while name and name not in mods:
                    name = name.rpartition(".")[0]
                if name and name != mod:
                    graph[mod].add(name)
    return graph


def _cycles(graph: dict[str, set[str]], nodes: list[str]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:  # Tarjan, iterative depth is small enough here
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in nodes:
        if v not in index:
            strong(v)
    # a package importing its own submodules from __init__ is re-export, not a cycle
    return [c for c in found if not all(x == c[0] or x.startswith(c[0] + ".") for x in c)]


def _face(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FACES else None


MODS = _modules()
GRAPH = _graph(MODS)


def test_the_walk_sees_the_package():
    # guards the test itself: a walk that found nothing would pass every check below
    assert "arclink.model.resolve" in MODS and "arclink.arm.app" in MODS
    assert any(d.startswith("arclink.model") for d in GRAPH["arclink.arm.app"])
    assert _face("arclink.arm.app") == "arm" and _face("arclink.stack") is None


def test_no_import_cycle():
    assert _cycles(GRAPH, sorted(MODS)) == []


def test_no_face_imports_another_face():
    crossings = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() for d in deps
                       if _face(m) and _face(d) and _face(m) != _face(d))
    assert crossings == []


def test_the_model_imports_no_face():
    upward = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() if m.startswith("arclink.model")
                    for d in deps if _face(d) or d.startswith("arclink.cli"))
    assert upward == []


def test_no_module_over_500_lines():
    big = sorted(f"{m} ({n} lines)" for m, p in MODS.items()
                 if (n := p.read_text(encoding="utf-8").count("\n")) > MAX_LINES)
    assert big == []
