"""Azure Arc Private Link Scopes and private endpoints: the portal blades the page walks through.

A scope's page has the blades the page names: *Private endpoint connections* (Approve, Reject),
*Azure Arc resources* (Add: only clusters in the scope's subscription and region), and the
scope's settings (public network access). An endpoint's page has its *DNS configuration* (FQDN,
IP) and the zones of its zone group. Every change is an ARM request as the signed-in user; ARM's
refusal is shown as it is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from arclink.model import catalogue as cat
from arclink.portal.html import e, hidden, link, resource_link, status_badge, table
from arclink.portal.pages import list_all, list_clusters, subscriptions, view

if TYPE_CHECKING:
    from arclink.portal.app import Request, Response

HC = "Microsoft.HybridCompute"
SHOWN, OFFERED = 200, 1000  # a scope of 10,000 clusters: a page, not a wall
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def _csrf(req: Request) -> str:
    assert req.session is not None
    return hidden("csrf", req.session.csrf)


def _view(req: Request, title: str, body: str, live: str = "", status: int = 200) -> Response:
    return view(req, title, body, "scopes", live, status)


def _done(req: Request, ok: bool, text: str, back: str) -> Response:
    from arclink.portal.app import redirect

    assert req.session is not None
    req.session.flash = ("ok" if ok else "error", text)
    return redirect(back)


async def scopes_page(req: Request) -> Response:
    scopes = sorted(await list_all(req, HC, "privateLinkScopes"), key=lambda s: s["name"].lower())
    rows = [[link("/portal/scope", s["name"], id=s["id"]), e(s["id"].split("/")[4]), e(s.get("location")),
             e((s.get("properties") or {}).get("publicNetworkAccess")),
             e(len((s.get("properties") or {}).get("privateEndpointConnections") or []))] for s in scopes]
    subs = "".join(f'<option value="{e(s)}">{e(s)}</option>' for s in await subscriptions(req))
    regions = "".join(f'<option value="{e(r)}"{" selected" if r == "westeurope" else ""}>{e(r)}</option>'
                      for r in sorted(cat.REGIONS))
    create = (f'<h2 id="create-h">Create an Azure Arc Private Link Scope</h2><form method="post" '
              f'action="/portal/scopes" aria-labelledby="create-h">{_csrf(req)}'
              f'<label for="sub">Subscription</label><select id="sub" name="subscription">{subs}</select>'
              '<label for="rg">Resource group</label><input id="rg" name="resourceGroup" required value="rg-arc-hub">'
              '<label for="name">Name</label><input id="name" name="name" required>'
              f'<label for="region">Region</label><select id="region" name="location">{regions}</select>'
              '<fieldset><legend>Public network access</legend>'
              '<input type="radio" id="pna-disabled" name="publicNetworkAccess" value="Disabled" checked>'
              '<label for="pna-disabled">Disabled: clusters connect through private endpoints only</label><br>'
              '<input type="radio" id="pna-enabled" name="publicNetworkAccess" value="Enabled">'
              '<label for="pna-enabled">Enabled: clusters may also use the public endpoints</label></fieldset>'
              '<p><button type="submit">Create</button></p></form>')
    body = table("Azure Arc Private Link Scopes", ["Name", "Resource group", "Region", "Public network access",
                                                   "Private endpoint connections"], rows,
                 empty="none yet") + create
    return _view(req, "Azure Arc Private Link Scopes", body)


async def create_scope(req: Request) -> Response:
    assert req.session is not None
    f = req.form
    sub, rg, name = f.get("subscription", ""), f.get("resourceGroup", "").strip(), f.get("name", "").strip()
    pna = f.get("publicNetworkAccess", "Disabled")
    if not (_NAME.match(name) and _NAME.match(rg)) or pna not in ("Enabled", "Disabled"):
        return _done(req, False, "Give the scope and its resource group names of letters, digits, '.', '_' or '-' "
                                 "(up to 63), and choose whether public network access is enabled.", "/portal/scopes")
    token, bridge = req.session.token, req.portal.bridge
    group = f"/subscriptions/{sub}/resourcegroups/{rg}"
    if not (await bridge.arm(token, "GET", group, "Microsoft.Resources")).ok:  # the portal's "Create new"
        made = await bridge.arm(token, "PUT", group, "Microsoft.Resources", {"location": f.get("location")})
        if not made.ok:
            return _done(req, False, made.error, "/portal/scopes")
    sid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{HC}/privateLinkScopes/{name}"
    ans = await bridge.arm(token, "PUT", sid, HC, {"location": f.get("location"),
                                                   "properties": {"publicNetworkAccess": pna}})
    if not ans.ok:
        return _done(req, False, ans.error, "/portal/scopes")
    return _done(req, True, f"Created the scope {name}.", f"/portal/scope?id={ans.body['id']}")


async def _scope_parts(req: Request, scope: dict) -> tuple[str, str, str]:
    assert req.session is not None
    bridge, token, sid = req.portal.bridge, req.session.token, scope["id"]
    pecs = await bridge.arm(token, "GET", sid + "/privateEndpointConnections", HC)
    rows = []
    for c in (pecs.body or {}).get("value", []) if pecs.ok else []:
        st = (c["properties"].get("privateLinkServiceConnectionState") or {})
        actions = "".join(
            f'<form method="post" action="/portal/scope/connection" class="inline">{_csrf(req)}'
            f'{hidden("id", sid)}{hidden("connection", c["id"])}{hidden("status", verb)}'
            f'<button type="submit" class="{"" if verb == "Approved" else "secondary"}" '
            f'aria-label="{e(label)} {e(c["name"])}">{e(label)}</button></form> '
            for verb, label in (("Approved", "Approve"), ("Rejected", "Reject")) if st.get("status") != verb)
        pe = (c["properties"].get("privateEndpoint") or {}).get("id")
        rows.append([resource_link(pe), f'<span data-pec-status="{e(c["name"])}">{status_badge(st.get("status"))}</span>',
                     e(st.get("description") or ""), actions or "-"])
    pec_html = table("Private endpoint connections", ["Private endpoint", "Status", "Description", "Actions"], rows,
                     empty="no private endpoint targets this scope yet")
    sub, loc = sid.split("/")[2].lower(), (scope.get("location") or "").lower()
    clusters = await list_clusters(req)
    clusters.sort(key=lambda c: c.name.lower())
    mine = [c for c in clusters if (c.props.privateLinkScopeResourceId or "").lower() == sid.lower()]
    mine_ids = {c.id.lower() for c in mine}
    arc_rows = [[link("/portal/cluster", c.name, id=c.id), status_badge(c.props.connectivityStatus),
                 e(c.props.privateLinkState), e(c.location)] for c in mine[:SHOWN]]
    more = (f"<p>{len(mine)} clusters are associated; the first {SHOWN} by name are shown. "
            f'{link("/portal/clusters", "All clusters")}</p>' if len(mine) > SHOWN else "")
    # As the page says: only clusters in the scope's subscription and region can be added.
    candidates = [c for c in clusters if c.id.split("/")[2].lower() == sub and (c.location or "").lower() == loc
                  and c.id.lower() not in mine_ids]
    options = "".join(f'<option value="{e(c.id)}">{e(c.name)} ({e(c.id.split("/")[4])})</option>'
                      for c in candidates[:OFFERED])
    offered = (f"<p>{len(candidates)} clusters can be added; the first {OFFERED} by name are offered.</p>"
               if len(candidates) > OFFERED else "")
    add = (f'<form method="post" action="/portal/scope/add" aria-labelledby="add-h">{_csrf(req)}{hidden("id", sid)}'
           f'<h3 id="add-h">Add</h3><p>Clusters in subscription {e(sid.split("/")[2])} and region {e(loc)} only.</p>'
           f'{offered}<label for="add-cluster">Cluster</label><select id="add-cluster" name="cluster">{options}</select> '
           '<button type="submit">Add</button></form>' if candidates else
           f"<p>No other cluster in subscription {e(sid.split('/')[2])} and region {e(loc)} to add.</p>")
    arc_html = table("Azure Arc resources", ["Name", "Connectivity status", "privateLinkState", "Region"], arc_rows,
                     empty="none associated yet") + more + add
    pna = (scope.get("properties") or {}).get("publicNetworkAccess") or "Disabled"
    radios = "".join(f'<input type="radio" id="set-{v.lower()}" name="publicNetworkAccess" value="{v}"'
                     f'{" checked" if v == pna else ""}><label for="set-{v.lower()}">{v}</label> '
                     for v in ("Disabled", "Enabled"))
    settings = (f'<form method="post" action="/portal/scope/settings">{_csrf(req)}{hidden("id", sid)}'
                f"<fieldset><legend>Public network access</legend>{radios}</fieldset>"
                '<button type="submit">Save</button></form>'
                f'<dl class="props"><dt>Region</dt><dd>{e(scope.get("location"))}</dd><dt>Resource id</dt>'
                f'<dd>{e(sid)}</dd><dt>Scope id</dt><dd>{e((scope.get("properties") or {}).get("privateLinkScopeId"))}'
                "</dd></dl>")
    return pec_html, arc_html, settings


async def scope_page(req: Request) -> Response:
    assert req.session is not None
    ans = await req.portal.bridge.arm(req.session.token, "GET", req.query.get("id", "/"), HC)
    if not ans.ok:
        return _view(req, "Scope not found", f"<p role=alert>{e(ans.error)}</p>", status=404)
    scope = ans.body
    pec, arc, settings = await _scope_parts(req, scope)
    body = (f'<div data-live-part="scope" data-live-label="scope">'
            f'<section aria-labelledby="pec-h"><h2 id="pec-h">Private endpoint connections</h2>{pec}</section>'
            f'<section aria-labelledby="arc-h"><h2 id="arc-h">Azure Arc resources</h2>{arc}</section></div>'
            f'<section aria-labelledby="set-h"><h2 id="set-h">Settings</h2>{settings}</section>')
    return _view(req, f"Scope {scope['name']}", body, live="scope")


async def connection_action(req: Request) -> Response:
    assert req.session is not None
    f, back = req.form, f"/portal/scope?id={req.form.get('id', '')}"
    status = f.get("status")
    conn = f.get("connection", "")
    if status not in ("Approved", "Rejected") or not conn.lower().startswith(f.get("id", "?").lower() + "/"):
        return _done(req, False, "Choose Approve or Reject on one of this scope's connections.", back)
    verb = "approved" if status == "Approved" else "rejected"
    ans = await req.portal.bridge.arm(req.session.token, "PUT", conn, HC, {"properties": {
        "privateLinkServiceConnectionState": {"status": status, "description": f"{verb} in the portal"}}})
    name = conn.rsplit("/", 1)[-1]
    return _done(req, ans.ok, f"The connection {name} is {verb}." if ans.ok else ans.error, back)


async def add_cluster(req: Request) -> Response:
    assert req.session is not None
    sid, cid = req.form.get("id", ""), req.form.get("cluster", "")
    back = f"/portal/scope?id={sid}"
    bridge, token = req.portal.bridge, req.session.token
    scope, cluster = await bridge.arm(token, "GET", sid, HC), await bridge.arm(token, "GET", cid, "Microsoft.Kubernetes")
    if not (scope.ok and cluster.ok):
        return _done(req, False, (cluster if scope.ok else scope).error, back)
    c = cluster.body
    if c["id"].split("/")[2].lower() != sid.split("/")[2].lower() or \
            (c.get("location") or "").lower() != (scope.body.get("location") or "").lower():
        return _done(req, False, f"{c['name']} is not in the scope's subscription and region; only those can be "
                                 "added.", back)
    props = {k: v for k, v in (c.get("properties") or {}).items() if k not in ("provisioningState",)}
    props.update(privateLinkState="Enabled", privateLinkScopeResourceId=scope.body["id"])
    doc = {"location": c["location"], "identity": {"type": (c.get("identity") or {}).get("type", "SystemAssigned")},
           "tags": c.get("tags") or {}, "properties": props}
    ans = await bridge.arm(token, "PUT", c["id"], "Microsoft.Kubernetes", doc)
    return _done(req, ans.ok, f"Added {c['name']} to the scope." if ans.ok else ans.error, back)


async def scope_settings(req: Request) -> Response:
    assert req.session is not None
    sid, pna = req.form.get("id", ""), req.form.get("publicNetworkAccess")
    back = f"/portal/scope?id={sid}"
    if pna not in ("Enabled", "Disabled"):
        return _done(req, False, "Choose Enabled or Disabled for public network access.", back)
    bridge, token = req.portal.bridge, req.session.token
    cur = await bridge.arm(token, "GET", sid, HC)
    if not cur.ok:
        return _done(req, False, cur.error, back)
    ans = await bridge.arm(token, "PUT", sid, HC, {"location": cur.body["location"], "tags": cur.body.get("tags") or {},
                                                   "properties": {"publicNetworkAccess": pna}})
    return _done(req, ans.ok, f"Public network access is {pna}." if ans.ok else ans.error, back)


async def endpoint_page(req: Request) -> Response:
    assert req.session is not None
    bridge, token = req.portal.bridge, req.session.token
    ans = await bridge.arm(token, "GET", req.query.get("id", "/"), "Microsoft.Network")
    if not ans.ok:
        return _view(req, "Private endpoint not found", f"<p role=alert>{e(ans.error)}</p>", status=404)
    pe = ans.body
    p = pe.get("properties") or {}
    rows = [[e(c.get("fqdn")), e(", ".join(c.get("ipAddresses") or []))] for c in p.get("customDnsConfigs") or []]
    groups = await bridge.arm(token, "GET", pe["id"] + "/privateDnsZoneGroups", "Microsoft.Network")
    zrows = []
    for g in (groups.body or {}).get("value", []) if groups.ok else []:
        for z in (g.get("properties") or {}).get("privateDnsZoneConfigs") or []:
            zid = (z.get("properties") or {}).get("privateDnsZoneId", "")
            recs = ", ".join(f"{r.get('fqdn')} {', '.join(r.get('ipAddresses') or [])}"
                             for r in (z.get("properties") or {}).get("recordSets") or [])
            zrows.append([e(zid.rsplit("/", 1)[-1]), e(g.get("name")), e(recs or "-")])
    conns = [*(p.get("privateLinkServiceConnections") or []), *(p.get("manualPrivateLinkServiceConnections") or [])]
    target = ((conns[0].get("properties") or {}) if conns else {})
    state = (target.get("privateLinkServiceConnectionState") or {}).get("status")
    zones = table("Configuration name (the zone group's zones)", ["Private DNS zone", "Zone group", "Records"], zrows,
                  empty="no zone group: write the records yourself")
    body = (f'<dl class="props"><dt>Target</dt><dd>{resource_link(target.get("privateLinkServiceId"))}</dd>'
            f"<dt>Connection status</dt><dd>{status_badge(state)}</dd><dt>Subnet</dt>"
            f'<dd>{e(((p.get("subnet") or {}).get("id") or "").split("/virtualNetworks/")[-1])}</dd></dl>'
            f'<section aria-labelledby="dns-h"><h2 id="dns-h">DNS configuration</h2>'
            f'{table("Customer visible FQDNs", ["FQDN", "IP addresses"], rows)}'
            f"{zones}"
            "</section>")
    return _view(req, f"Private endpoint {pe['name']}", body)


async def dispatch(req: Request) -> Response | None:
    routes = {("GET", "/scopes"): scopes_page, ("POST", "/scopes"): create_scope, ("GET", "/scope"): scope_page,
              ("POST", "/scope/connection"): connection_action, ("POST", "/scope/add"): add_cluster,
              ("POST", "/scope/settings"): scope_settings, ("GET", "/endpoint"): endpoint_page}
    handler = routes.get((req.method, req.path))
    return await handler(req) if handler else None
