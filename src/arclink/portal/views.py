"""The portal's pages: overview, findings and rule pages, and the routing of every page.

The clusters pages are in ``views_clusters``, the scope and endpoint pages in ``views_scopes``.
Reads of resources are ARM requests (``Bridge``) as the signed-in user; the picture and the
findings come from the latest background computation of the live model (``computed``), whose
drawing and tables ``render_parts`` renders with it, so a page only looks them up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arclink.model import rules
from arclink.model.index import Index
from arclink.model.picture import VERDICTS, Node, Picture
from arclink.portal import views_clusters, views_scopes
from arclink.portal.html import e, link, page, resource_link, table
from arclink.portal.pages import as_of, computed, list_clusters, view
from arclink.portal.svg import COLOURS, render_svg

if TYPE_CHECKING:
    from arclink.portal.app import Request, Response

SEVERITIES = ("error", "warning", "info")


def _href(node: Node) -> str | None:
    if node.kind == "cluster" and node.ref:
        return f"/portal/cluster?id={node.ref}"
    if node.kind == "clusters":  # a group: the clusters list of exactly its clusters
        return f"/portal/clusters?group={node.id}"
    if node.kind == "scope" and node.ref:
        return f"/portal/scope?id={node.ref}"
    if node.kind == "endpoint" and node.ref:
        return f"/portal/endpoint?id={node.ref}"
    return None


def render_parts(ix: Index, pic: Picture, findings: list) -> dict[str, str]:
    """What the pages show of one computation, as HTML: rendered with it (in the child process)."""
    return {"picture": _picture_html(ix, pic), "findings": _findings_html(findings)}


def _picture_html(ix: Index, pic: Picture) -> str:
    """The overview's legend, drawing and paths table."""
    legend = "".join(f'<li><span style="background:{COLOURS[v]}"></span>'
                     f'{link("/portal/clusters", t, verdict=v)}: {pic.counts[v]} clusters</li>'
                     for v, t in VERDICTS.items())
    paths = [[e(", ".join(c.name for c in map(ix.cluster, p.cluster_ids[:3]) if c is not None)
                + (f" and {p.clusters - 3} more" if p.clusters > 3 else "")),
              f'<span class="badge st-{"admitted" if p.verdict == "admitted" else "refused"}">'
              f'{e(VERDICTS[p.verdict])}</span>', e(p.code),
              " → ".join(e(pic.nodes[n].label) for n in p.nodes[1:]),
              e(pic.nodes[p.fail_at].label) if p.fail_at else "-"] for p in pic.paths[:300]]
    return (f'<ul class="legend">{legend}</ul><p>Each path runs from a cluster to its scope; a refused path ends '
            'at the hop that refuses it (red outline, ✕). Select a cluster for its trace, a group for its '
            'clusters.</p>'
            f'<div class="picture" tabindex="0" role="region" aria-label="Topology picture">'
            f'{render_svg(pic, _href, standalone=True)}</div>'
            f'{table("Paths (the picture as a table)", ["Clusters", "Verdict", "Code", "Path", "Refused at"], paths)}')


def _findings_html(findings: list) -> str:
    sections = []
    for sev in SEVERITIES:
        rows = [[link(f"/portal/rules/{f.rule}", f.rule), e(f.message), e(f.fix),
                 resource_link(f.resource) if f.resource.startswith("/subscriptions/") else e(f.resource)]
                for f in findings if f.severity == sev]
        sections.append(f'<section aria-labelledby="{sev}"><h2 id="{sev}">{e(sev.title())} ({len(rows)})</h2>'
                        f'{table(f"{sev.title()} findings", ["Rule", "Finding", "Fix", "Resource"], rows)}</section>')
    return "".join(sections)


async def overview(req: Request) -> Response:
    done = await computed(req)
    clusters = await list_clusters(req)
    by_status: dict[str, int] = {}
    for c in clusters:
        st = c.props.connectivityStatus or "Unknown"
        by_status[st] = by_status.get(st, 0) + 1
    counts: list[tuple[str, object]] = [("Clusters", len(clusters))]
    if done is not None:
        ix = done.index
        counts[:0] = [("Scopes", len(ix.scopes)), ("Private endpoints", sum(1 for p in ix.endpoints.values() if p.is_arc))]
    items = "".join(f"<li><strong>{n}</strong>{e(t)}</li>" for t, n in counts)
    items += "".join(f"<li><strong>{n}</strong>{e(st)}</li>" for st, n in sorted(by_status.items()))
    if done is not None:
        items += "".join(f'<li><strong>{sum(1 for f in done.findings if f.severity == s)}</strong>'
                         f'<a href="/portal/findings#{s}">{e(s)} findings</a></li>' for s in SEVERITIES)
    drawing = done.parts.get("picture", "") if done is not None else "<p>The picture shows here when it is ready.</p>"
    # The version line first: the scope, endpoint and findings counts are the computation's too.
    body = (f'{as_of(req, done)}<section aria-labelledby="counts-h"><h2 id="counts-h">Counts</h2>'
            f'<ul class="counts" data-live-part="counts" data-live-label="counts">{items}</ul></section>'
            '<section aria-labelledby="pic-h"><h2 id="pic-h">Which way each cluster\'s traffic goes</h2>'
            f'<div data-live-part="picture" data-live-label="picture">{drawing}</div></section>')
    return view(req, "Overview", body, "overview", live="overview")


async def findings_page(req: Request) -> Response:
    done = await computed(req)
    sections = done.parts.get("findings", "") if done is not None else "<p>The findings show here when they are ready.</p>"
    body = (f"<p>The {len(rules.all_rules())} rules checked on the live state.</p>{as_of(req, done)}"
            f'<div data-live-part="findings" data-live-label="findings">{sections}</div>')
    return view(req, "Findings", body, "findings", live="findings")


async def rule_page(req: Request, rule_id: str) -> Response:
    from arclink.portal.app import html

    meta = next((r.meta for r in rules.all_rules() if r.meta.id.lower() == rule_id.lower()), None)
    if meta is None:
        assert req.session is not None
        return html(page("Rule not found", f"<p role=alert>There is no rule {e(rule_id)}; the rules are APL001 to "
                                           "APL025.</p>", current="findings", user=req.session.user,
                         csrf=req.session.csrf), 404)
    props = [("Name", meta.name), ("Severity", meta.severity), ("Summary", meta.summary), ("Fix", meta.fix),
             ("Refused by ARM", f"yes ({meta.arm_code})" if meta.hard else "no"), ("Azure Policy", meta.policy or "-")]
    dl = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in props)
    body = f'<dl class="props">{dl}</dl><h2>What the page says</h2><blockquote><p>{e(meta.seed)}</p></blockquote>'
    return view(req, f"{meta.id} {meta.name}", body, "findings")


async def dispatch(req: Request) -> Response:
    from arclink.portal.app import html

    path, method = req.path, req.method
    if method == "GET":
        if path == "/":
            return await overview(req)
        if path == "/clusters":
            return await views_clusters.clusters_page(req)
        if path == "/cluster":
            return await views_clusters.cluster_page(req)
        if path == "/findings":
            return await findings_page(req)
        if path.startswith("/rules/"):
            return await rule_page(req, path[len("/rules/"):])
    answer = await views_scopes.dispatch(req)
    if answer is not None:
        return answer
    assert req.session is not None
    return html(page("Not found", "<p role=alert>The portal has no such page.</p>", user=req.session.user,
                     csrf=req.session.csrf), 404)
