"""The picture (``arclink.model.picture``) drawn as SVG: columns left to right, paths coloured by verdict.

Used by the portal's overview and by ``arclink explain --format svg`` / ``arclink lint --format html``
(``standalone=True`` carries its own styles, so the file stands alone). Every node is a link when
``href`` gives it one, reachable by keyboard and named for screen readers; the failing hop of a
refused path has a red outline and a cross. Nodes in a column are ordered by where their
neighbours on the left sit, so paths cross as little as a single pass can manage.
"""

from __future__ import annotations

from html import escape
from typing import Callable

from arclink.model.picture import COLUMNS, NOUNS, VERDICTS, Node, Picture

COL_W, NODE_W, NODE_H, GAP, TOP, LEFT = 190, 160, 38, 12, 44, 10
COLOURS = {"admitted": "#107c10", "refused": "#c50f1f", "dns": "#8f4700"}

STYLE = (
    ".pic text{font-family:system-ui,sans-serif;font-size:12px;fill:#201f1e}"
    ".pic .head{font-weight:600;font-size:13px}"
    ".pic rect{fill:#fff;stroke:#605e5c;stroke-width:1}"
    ".pic .kind-scope rect,.pic .kind-endpoint rect{fill:#eff6fc}"
    ".pic .kind-cluster rect,.pic .kind-clusters rect{fill:#f3f2f1}"
    ".pic .fail rect{stroke:#c50f1f;stroke-width:3}"
    ".pic .cross{fill:#c50f1f;font-weight:700;font-size:16px}"
    ".pic .sub{fill:#484644;font-size:11px}"
    ".pic path{fill:none;stroke-opacity:.85}"
    ".pic a:focus rect,.pic a:hover rect{stroke:#0f6cbd;stroke-width:3}"
    ".pic .v-refused{stroke-dasharray:6 3}"
)


def _layout(pic: Picture) -> dict[str, tuple[float, float]]:
    """x, y of every node: columns left to right, each column ordered by its left neighbours' places."""
    incoming: dict[str, list[str]] = {}
    for e in pic.edges():
        incoming.setdefault(e.target, []).append(e.source)
    pos: dict[str, tuple[float, float]] = {}
    for col in range(len(COLUMNS)):
        nodes = pic.column(col)

        def rank(n: Node) -> tuple[float, int]:
            ys = [pos[s][1] for s in incoming.get(n.id, []) if s in pos]
            return (sum(ys) / len(ys) if ys else float("inf"), order[n.id])
        order = {nid: i for i, nid in enumerate(pic.nodes)}
        if col > 0:
            nodes.sort(key=rank)
        x = LEFT + col * COL_W
        for i, n in enumerate(nodes):
            pos[n.id] = (x, TOP + i * (NODE_H + GAP))
    return pos


def render_svg(pic: Picture, href: Callable[[Node], str | None] = lambda n: None, *, standalone: bool = False,
               title: str = "Which way each cluster's traffic goes") -> str:
    pos = _layout(pic)
    rows = max((len(pic.column(c)) for c in range(len(COLUMNS))), default=1) or 1
    width = LEFT * 2 + (len(COLUMNS) - 1) * COL_W + NODE_W
    height = TOP + rows * (NODE_H + GAP) + 10
    counts = ", ".join(f"{n} {VERDICTS[v]}" for v, n in pic.counts.items())
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="pic" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="group" aria-label="{escape(title)}: {escape(counts)}">']
    if standalone:
        out.append(f"<style>{STYLE}</style>")
    out.append(f"<title>{escape(title)}</title>")
    for c, name in enumerate(COLUMNS):
        out.append(f'<text class="head" x="{LEFT + c * COL_W}" y="20" aria-hidden="true">{escape(name)}</text>')
    for e in pic.edges():
        if e.source not in pos or e.target not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        x1, y1, y2 = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
        mid = (x1 + x2) / 2
        w = 1.5 + min(4.0, e.clusters ** 0.5 / 3)
        out.append(f'<path class="edge v-{e.verdict}" data-verdict="{e.verdict}" data-source="{escape(e.source)}" '
                   f'data-target="{escape(e.target)}" stroke="{COLOURS[e.verdict]}" '
                   f'stroke-width="{w:.1f}" d="M{x1:.0f} {y1:.0f}C{mid:.0f} {y1:.0f} {mid:.0f} {y2:.0f} {x2:.0f} '
                   f'{y2:.0f}" aria-hidden="true"/>')
    for n in pic.nodes.values():
        x, y = pos[n.id]
        fail = n.failing > 0
        sub = n.detail
        if n.clusters and n.kind not in ("cluster", "clusters"):
            sub = f"{n.clusters} cluster{'s' if n.clusters != 1 else ''}" + (f", {n.failing} refused here" if fail else "")
        name = f"{NOUNS[n.column].capitalize() if n.kind != 'clusters' else 'Group'} {n.label}"
        spoken = f"{name} {sub}" if sub else name  # the visible words, in order (WCAG 2.5.3)
        link = href(n)
        cls = f"node kind-{n.kind}{' fail' if fail else ''}"
        # A nested svg clips long text to the box, so the text stays whole for assistive technology.
        body = (f'<svg x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}">'
                f'<rect x="0.5" y="0.5" width="{NODE_W - 1}" height="{NODE_H - 1}" rx="4"/>'
                f'<text x="8" y="15">{escape(n.label)}<tspan class="sub" x="8" y="30"> {escape(sub)}</tspan></text>'
                + (f'<text class="cross" x="{NODE_W - 16}" y="17" aria-hidden="true">✕</text>' if fail else "")
                + "</svg>")
        attrs = (f'class="{cls}" data-id="{escape(n.id)}" data-column="{n.column}" data-kind="{n.kind}" '
                 f'data-failing="{n.failing}"')
        if link:
            out.append(f'<a href="{escape(link)}" {attrs} aria-label="{escape(spoken)}">{body}</a>')
        else:
            out.append(f'<g {attrs} role="img" aria-label="{escape(spoken)}"><title>{escape(spoken)}</title>{body}</g>')
    out.append("</svg>")
    return "".join(out)


def element_count(svg: str) -> int:
    """How many SVG elements a drawing has (the benchmark's measure of a readable picture)."""
    return svg.count("<") - svg.count("</")


__all__ = ["STYLE", "element_count", "render_svg"]
