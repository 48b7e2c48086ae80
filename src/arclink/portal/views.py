"""The portal's pages: overview, clusters, one cluster's trace, findings and rule pages.

The scope and endpoint pages are in ``views_scopes``. Reads of resources are ARM requests
(``Bridge.arm``) as the signed-in user; the picture, the traces and the findings are computed
from the live model the same engine publishes (``LiveState.snapshot``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arclink.model import rules
from arclink.model.index import ClusterR, Index
from arclink.model.picture import VERDICTS, Node, picture
from arclink.model.trace import cluster_trace
from arclink.portal import views_scopes
from arclink.portal.html import e, link, page, resource_link, status_badge, table
from arclink.portal.svg import COLOURS, render_svg

if TYPE_CHECKING:
    from arclink.portal.app import Request, Response

PAGE_SIZE = 200
CODE_KEY, REASON_KEY = "arclinkConnectivityCode", "arclinkConnectivityReason"  # where ARM shows the gateway's verdict


def _page(req: Request, title: str, body: str, current: str, live: str = "") -> Response:
    from arclink.portal.app import html

    s = req.session
    assert s is not None
    return html(page(title, body, current=current, user=s.user, csrf=s.csrf, flash=s.take_flash(), live=live))


async def subscriptions(req: Request) -> list[str]:
    assert req.session is not None
    ans = await req.portal.bridge.arm(req.session.token, "GET", "/subscriptions", "Microsoft.Resources")
    subs = [s["subscriptionId"] for s in (ans.body or {}).get("value", [])] if ans.ok else []
    return subs or [req.portal.subscription]


async def list_all(req: Request, provider: str, rtype: str) -> list[dict]:
    """Every resource of a type in every subscription the user sees (ARM's subscription-wide list)."""
    assert req.session is not None
    out: list[dict] = []
    for sub in await subscriptions(req):
        ans = await req.portal.bridge.arm(req.session.token, "GET", f"/subscriptions/{sub}/providers/{provider}/{rtype}",
                                          provider)
        if ans.ok:
            out += (ans.body or {}).get("value", [])
    return out


def _findings(ix: Index) -> list:
    return ix.memo(("portal-findings",), lambda: rules.run(ix))


def _href(node: Node) -> str | None:
    if node.kind == "cluster" and node.ref:
        return f"/portal/cluster?id={node.ref}"
    if node.kind == "clusters":
        return "/portal/clusters?verdict=" + node.detail.split(": ", 1)[-1].split(" (", 1)[0]
    if node.kind == "scope" and node.ref:
        return f"/portal/scope?id={node.ref}"
    if node.kind == "endpoint" and node.ref:
        return f"/portal/endpoint?id={node.ref}"
    return None


async def overview(req: Request) -> Response:
    _, ix = req.portal.live.snapshot()
    pic = picture(ix)
    clusters = await list_all(req, "Microsoft.Kubernetes", "connectedClusters")
    by_status: dict[str, int] = {}
    for c in clusters:
        st = (c.get("properties") or {}).get("connectivityStatus") or "Unknown"
        by_status[st] = by_status.get(st, 0) + 1
    findings = _findings(ix)
    sev = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    counts = [("Scopes", len(ix.scopes)), ("Private endpoints", sum(1 for p in ix.endpoints.values() if p.is_arc)),
              ("Clusters", len(clusters))]
    items = "".join(f"<li><strong>{n}</strong>{e(t)}</li>" for t, n in counts)
    items += "".join(f"<li><strong>{n}</strong>{e(st)}</li>" for st, n in sorted(by_status.items()))
    items += "".join(f'<li><strong>{n}</strong><a href="/portal/findings#{s}">{e(s)} findings</a></li>'
                     for s, n in sev.items())
    legend = "".join(f'<li><span style="background:{COLOURS[v]}"></span>{e(t)}: {pic.counts[v]} clusters</li>'
                     for v, t in VERDICTS.items())
    paths = [[e(", ".join(c.name for c in map(ix.cluster, p.cluster_ids[:3]) if c is not None)
               + (f" and {p.clusters - 3} more" if p.clusters > 3 else "")),
              f'<span class="badge st-{"admitted" if p.verdict == "admitted" else "refused"}">'
              f'{e(VERDICTS[p.verdict])}</span>', e(p.code),
              " → ".join(e(pic.nodes[n].label) for n in p.nodes[1:]),
              e(pic.nodes[p.fail_at].label) if p.fail_at else "-"] for p in pic.paths[:300]]
    body = (f'<section aria-labelledby="counts-h"><h2 id="counts-h">Counts</h2>'
            f'<ul class="counts" data-live-part="counts" data-live-label="counts">{items}</ul></section>'
            '<section aria-labelledby="pic-h"><h2 id="pic-h">Which way each cluster\'s traffic goes</h2>'
            f'<ul class="legend">{legend}</ul><p>Each path runs from a cluster to its scope; a refused path ends '
            'at the hop that refuses it (red outline, ✕). Select a cluster for its trace.</p>'
            f'<div class="picture" data-live-part="picture" data-live-label="picture" tabindex="0" role="region" '
            f'aria-label="Topology picture">{render_svg(pic, _href, standalone=True)}</div>'
            f'<div data-live-part="paths" data-live-label="paths">'
            f'{table("Paths (the picture as a table)", ["Clusters", "Verdict", "Code", "Path", "Refused at"], paths)}'
            "</div></section>")
    return _page(req, "Overview", body, "overview", live="overview")


async def clusters_page(req: Request) -> Response:
    assert req.session is not None
    _, ix = req.portal.live.snapshot()
    clusters = sorted(await list_all(req, "Microsoft.Kubernetes", "connectedClusters"), key=lambda c: c["name"].lower())
    want = req.query.get("verdict")
    if want:
        keep = {c.id.lower() for c in ix.clusters.values() if _verdict_text(ix, c) == want}
        clusters = [c for c in clusters if c["id"].lower() in keep]
    try:
        start = max(0, int(req.query.get("page", "1")) - 1) * PAGE_SIZE
    except ValueError:
        start = 0
    shown = clusters[start:start + PAGE_SIZE]
    rows = []
    for c in shown:
        p = c.get("properties") or {}
        misc = p.get("miscellaneousProperties") or {}
        ext = await req.portal.bridge.arm(req.session.token, "GET",
                                          c["id"] + "/providers/Microsoft.KubernetesConfiguration/extensions",
                                          "Microsoft.KubernetesConfiguration")
        exts = ", ".join(x["name"] for x in (ext.body or {}).get("value", [])) if ext.ok else "?"
        rows.append([link("/portal/cluster", c["name"], id=c["id"]),
                     f'<span data-cluster-status="{e(c["name"])}">{status_badge(p.get("connectivityStatus"))}</span>',
                     e(misc.get(CODE_KEY) or ("Admitted" if p.get("connectivityStatus") == "Connected" else "-")),
                     e(p.get("privateLinkState") or "Disabled"), resource_link(p.get("privateLinkScopeResourceId")),
                     e(c.get("location")), e(exts or "none")])
    news = ", ".join(f'{c["name"]} {(c.get("properties") or {}).get("connectivityStatus")}' for c in shown[:20])
    pages = ""
    if len(clusters) > PAGE_SIZE:
        n = (len(clusters) + PAGE_SIZE - 1) // PAGE_SIZE
        pages = '<nav aria-label="Pages of clusters"><p>' + " ".join(
            link("/portal/clusters", str(i + 1), page=str(i + 1)) for i in range(min(n, 60))) + "</p></nav>"
    body = (f"<p>{len(clusters)} clusters{' (' + e(want) + ')' if want else ''}; the status follows the agents as "
            "they connect or are refused.</p>"
            f'<div data-live-part="clusters" data-live-label="clusters">'
            f'<p id="live-news" hidden>Cluster status: {e(news)}</p>'
            f'{table("Clusters", ["Name", "Connectivity status", "Last admission code", "privateLinkState", "Scope", "Region", "Extensions"], rows, empty="no clusters yet")}'
            f"</div>{pages}")
    return _page(req, "Clusters", body, "clusters", live="clusters")


def _verdict_text(ix: Index, c: ClusterR) -> str:
    from arclink.model.picture import ADMITTED

    t = cluster_trace(ix, c)
    fail = t.first_failure
    return VERDICTS[ADMITTED] if fail is None else ("DNS wrong" if fail[0] == "DnsResolutionFailed" else "refused")


async def cluster_page(req: Request) -> Response:
    from arclink.portal.app import html

    assert req.session is not None
    cid = req.query.get("id", "")
    ans = await req.portal.bridge.arm(req.session.token, "GET", cid, "Microsoft.Kubernetes") if cid else None
    if ans is None or not ans.ok:
        return html(page("Cluster not found", f"<p role=alert>{e(ans.error if ans else 'No cluster id given.')}</p>",
                         current="clusters", user=req.session.user, csrf=req.session.csrf), 404)
    c = ans.body
    p = c.get("properties") or {}
    misc = p.get("miscellaneousProperties") or {}
    _, ix = req.portal.live.snapshot()
    cr = ix.cluster(c["id"])
    props = [("Connectivity status", status_badge(p.get("connectivityStatus"))),
             ("Last admission code", e(misc.get(CODE_KEY) or "-")), ("Reason", e(misc.get(REASON_KEY) or "-")),
             ("privateLinkState", e(p.get("privateLinkState"))),
             ("Scope", resource_link(p.get("privateLinkScopeResourceId"))), ("Region", e(c.get("location"))),
             ("Last connected", e(p.get("lastConnectivityTime") or "-"))]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in props)
    trace = "<p>This cluster has no place in the model yet (no site).</p>"
    if cr is not None:
        t = cluster_trace(ix, cr).to_dict()
        verdict = "ADMITTED" if t["admitted"] else f"REFUSED {t['code']}: {t['reason']}"
        parts = [f'<p class="{"ok" if t["admitted"] else "bad"}">{e(verdict)}</p>']
        for n in t["names"]:
            steps = "".join(f"<li>{e(s['server'])}: {e(s['action'])}</li>" for s in n["resolution"].get("steps", []))
            hops = "".join(f'<li><span class="{"ok" if h["ok"] else "bad"}">{"ok" if h["ok"] else "FAIL"}</span> '
                           f'{e(h["what"])}: {e(h["detail"])}</li>' for r in n["connections"] for h in r["hops"])
            addrs = ", ".join(n["resolution"].get("addresses") or []) or n["resolution"].get("rcode", "")
            parts.append(f'<h3>{e(n["fqdn"])}</h3><p>Resolves to {e(addrs)}</p>'
                         f'<ol class="trace" aria-label="Resolution of {e(n["fqdn"])}">{steps}</ol>'
                         + (f'<ol class="trace" aria-label="Connection to {e(n["fqdn"])}">{hops}</ol>' if hops else ""))
        trace = "".join(parts)
    body = (f'<div data-live-part="cluster" data-live-label="cluster"><dl class="props">{dl}</dl>'
            f'<h2>Explain: what it resolves, where it connects</h2>{trace}</div>')
    return _page(req, f"Cluster {c['name']}", body, "clusters", live="cluster")


async def findings_page(req: Request) -> Response:
    _, ix = req.portal.live.snapshot()
    findings = _findings(ix)
    sections = []
    for sev in ("error", "warning", "info"):
        rows = [[link(f"/portal/rules/{f.rule}", f.rule), e(f.message), e(f.fix),
                 resource_link(f.resource) if f.resource.startswith("/subscriptions/") else e(f.resource)]
                for f in findings if f.severity == sev]
        sections.append(f'<section aria-labelledby="{sev}"><h2 id="{sev}">{e(sev.title())} ({len(rows)})</h2>'
                        f'{table(f"{sev.title()} findings", ["Rule", "Finding", "Fix", "Resource"], rows)}</section>')
    body = (f"<p>The {len(rules.all_rules())} rules checked on the live state.</p>"
            f'<div data-live-part="findings" data-live-label="findings">{"".join(sections)}</div>')
    return _page(req, "Findings", body, "findings", live="findings")


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
    return _page(req, f"{meta.id} {meta.name}", body, "findings")


async def dispatch(req: Request) -> Response:
    from arclink.portal.app import html

    path, method = req.path, req.method
    if method == "GET":
        if path == "/":
            return await overview(req)
        if path == "/clusters":
            return await clusters_page(req)
        if path == "/cluster":
            return await cluster_page(req)
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
