"""The Clusters list and one cluster's page: live connectivity from ARM, paths and traces from the model.

The list reads the clusters from ARM (all pages of the subscription-wide list) and everything
the model knows of them (extensions, verdicts, the picture's groups) from the latest background
computation: no request per cluster. ``?verdict=`` keeps the clusters of one verdict,
``?group=`` exactly the clusters of one group node of the picture (one site, or sites with the
same DNS and links, and one path and verdict). A cluster's page shows its ``explain`` trace:
what it resolves, where it connects, and where onboarding or the path refuses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arclink.model.index import ClusterR
from arclink.model.picture import VERDICTS
from arclink.model.trace import cluster_trace
from arclink.portal.computed import Computed
from arclink.portal.html import e, link, page, resource_link, status_badge, table
from arclink.portal.pages import CODE_KEY, REASON_KEY, ClusterRow, as_of, computed, list_clusters, view

if TYPE_CHECKING:
    from arclink.portal.app import Request, Response

PAGE_SIZE = 200


def _verdict_key(text: str) -> str | None:
    """``admitted``, ``refused``, ``dns`` (or the legend's words for them) as a verdict, else None."""
    low = text.strip().lower()
    return next((k for k, t in VERDICTS.items() if low in (k, t.lower())), None)


def _keep(req: Request, done: Computed | None) -> tuple[set[str] | None, str]:
    """The cluster ids (lower case) the list's filter keeps (None: all), and a sentence saying which."""
    group, want = req.query.get("group"), req.query.get("verdict")
    if not group and not want:
        return None, ""
    if done is None:
        return set(), "The filter applies once the live model is computed."
    pic = done.picture
    if group:
        ids, node = pic.members.get(group), pic.nodes.get(group)
        if ids is None or node is None:
            return set(), (f"The picture of version {done.version} has no such group: the model changed since the "
                           "link was made. Go back to the overview for the current groups.")
        return {i.lower() for i in ids}, f"The group {node.label} at {node.detail}."
    verdict = _verdict_key(want or "")
    if verdict is None:
        return set(), f"There is no verdict {want!r}; choose admitted, refused or DNS wrong."
    return {cid for cid, v in pic.verdicts.items() if v == verdict}, f"Clusters whose path is {VERDICTS[verdict]}."


def _extensions(done: Computed | None, cluster_id: str) -> str:
    cr = done.index.cluster(cluster_id) if done is not None else None
    if cr is None:
        return "-"
    return ", ".join(cr.spec.extensions) or "none"


async def clusters_page(req: Request) -> Response:
    done = await computed(req)
    clusters: list[ClusterRow] = await list_clusters(req)
    keep, which = _keep(req, done)
    if keep is not None:
        clusters = [c for c in clusters if c.id.lower() in keep]
    clusters.sort(key=lambda c: c.name.lower())
    try:
        number = max(1, int(req.query.get("page", "1")))
    except ValueError:
        number = 1
    start = (number - 1) * PAGE_SIZE
    shown = clusters[start:start + PAGE_SIZE]
    rows = []
    for c in shown:
        p = c.props
        rows.append([link("/portal/cluster", c.name, id=c.id),
                     f'<span data-cluster-status="{e(c.name)}">{status_badge(p.connectivityStatus)}</span>',
                     e(c.code or ("Admitted" if p.connectivityStatus == "Connected" else "-")),
                     e(p.privateLinkState or "Disabled"), resource_link(p.privateLinkScopeResourceId),
                     e(c.location), e(_extensions(done, c.id))])
    news = ", ".join(f"{c.name} {c.props.connectivityStatus}" for c in shown[:20])
    pages = ""
    if len(clusters) > PAGE_SIZE:
        n = (len(clusters) + PAGE_SIZE - 1) // PAGE_SIZE
        filters = {k: req.query[k] for k in ("group", "verdict") if req.query.get(k)}
        pages = '<nav aria-label="Pages of clusters"><p>' + " ".join(
            link("/portal/clusters", str(i + 1), **filters, page=str(i + 1)) for i in range(min(n, 60))) + "</p></nav>"
    body = (f"<p>{len(clusters)} clusters; the status follows the agents as they connect or are refused; "
            "extensions and paths are the live model's.</p>"
            + (f'<p class="filter">{e(which)} {link("/portal/clusters", "Show all clusters")}</p>' if which else "")
            + as_of(req, done)
            + f'<div data-live-part="clusters" data-live-label="clusters">'
            f'<p id="live-news" hidden>Cluster status: {e(news)}</p>'
            f'{table("Clusters", ["Name", "Connectivity status", "Last admission code", "privateLinkState", "Scope", "Region", "Extensions"], rows, empty="no clusters yet" if keep is None else "none")}'
            f"</div>{pages}")
    return view(req, "Clusters", body, "clusters", live="clusters")


def _not_modelled(done: Computed, c: dict, updating: bool) -> str:
    """Why a cluster ARM has is not in the model, as far as the model can say."""
    namesake = done.index.cluster(c["name"])
    if namesake is not None and namesake.id.lower() != c["id"].lower():
        return (f"<p>This cluster is not in the live model: it keeps one cluster per name, and {e(namesake.name)} in "
                f"resource group {e(namesake.id.split('/')[4])} has this name. Rename one of them to see its "
                "trace.</p>")
    if updating:
        return f"<p>This cluster is not in the live model of version {done.version}; the update under way adds it.</p>"
    return f"<p>This cluster is not in the live model of version {done.version}.</p>"


def _place(cr: ClusterR) -> str:
    if cr.site is None:
        return ("<p>No site: this cluster was not onboarded through a modelled network (it has no site the model "
                "knows), so its trace starts on the internet: public DNS and the public Azure Arc endpoints.</p>")
    return (f"<p>Site {e(cr.site.name)}" + (f", address {e(cr.address)}" if cr.address else ", no address given")
            + ".</p>")


def _trace_html(done: Computed, cr: ClusterR) -> str:
    ix = done.index  # the live model's own index: one trace, memoised on it
    tr = ix.memo(("portal-trace", cr.id.lower()), lambda: cluster_trace(ix, cr))
    t = tr.to_dict()
    verdict = "ADMITTED" if t["admitted"] else f"REFUSED {t['code']}: {t['reason']}"
    parts = [f'<p class="{"ok" if t["admitted"] else "bad"}">{e(verdict)}</p>', _place(cr)]
    hops = "".join(f'<li><span class="{"ok" if h.get("ok") else "bad"}">{"ok" if h.get("ok") else "FAIL"}</span> '
                   f'{e(h.get("what"))}: {e(h.get("detail"))}</li>' for h in t.get("onboarding") or [])
    if hops:
        parts.append(f'<h3>Onboarding</h3><ol class="trace" aria-label="Onboarding">{hops}</ol>')
    for n in t["names"]:
        steps = "".join(f"<li>{e(s['server'])}: {e(s['action'])}</li>" for s in n["resolution"].get("steps", []))
        conns = "".join(f'<li><span class="{"ok" if h["ok"] else "bad"}">{"ok" if h["ok"] else "FAIL"}</span> '
                        f'{e(h["what"])}: {e(h["detail"])}</li>' for r in n["connections"] for h in r["hops"])
        addrs = ", ".join(n["resolution"].get("addresses") or []) or n["resolution"].get("rcode", "")
        parts.append(f'<h3>{e(n["fqdn"])}</h3><p>Resolves to {e(addrs)}</p>'
                     f'<ol class="trace" aria-label="Resolution of {e(n["fqdn"])}">{steps}</ol>'
                     + (f'<ol class="trace" aria-label="Connection to {e(n["fqdn"])}">{conns}</ol>' if conns else ""))
    return "".join(parts)


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
    done = await computed(req)
    props = [("Connectivity status", status_badge(p.get("connectivityStatus"))),
             ("Last admission code", e(misc.get(CODE_KEY) or "-")), ("Reason", e(misc.get(REASON_KEY) or "-")),
             ("privateLinkState", e(p.get("privateLinkState"))),
             ("Scope", resource_link(p.get("privateLinkScopeResourceId"))), ("Region", e(c.get("location"))),
             ("Last connected", e(p.get("lastConnectivityTime") or "-"))]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in props)
    if done is None:
        trace = "<p>The trace shows here once the live model is computed.</p>"
    else:
        cr = done.index.cluster(c["id"])
        trace = _trace_html(done, cr) if cr is not None else _not_modelled(done, c, req.portal.computations.updating)
    body = (f'<div data-live-part="cluster" data-live-label="cluster"><dl class="props">{dl}</dl></div>'
            f'<h2>Explain: what it resolves, where it connects</h2>{as_of(req, done)}'
            f'<div data-live-part="trace" data-live-label="trace">{trace}</div>')
    return view(req, f"Cluster {c['name']}", body, "clusters", live="cluster")
