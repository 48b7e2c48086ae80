"""The portal's lists from ARM: every page followed, items typed when a page asks for a few fields.

The upstream here is a scripted ASGI app answering list pages, so what ARM might send (a page
that is not a list, an item of the wrong shape, an error) is decided by the test.
"""

from __future__ import annotations

import asyncio
import json

from arclink.portal.bridge import Bridge
from arclink.portal.pages import ClusterRow

BASE = "/subscriptions/s1/providers/Microsoft.Kubernetes/connectedClusters"


def _cluster(i: int, **props) -> dict:
    return {"id": f"{BASE}/c{i}", "name": f"c{i}", "location": "westeurope", "identity": {"type": "SystemAssigned"},
            "properties": {"provisioningState": "Succeeded", **props}}


class Pages:
    """Answers ``GET BASE`` with the pages given, one per ``$skiptoken`` (0, 1, ...), and records the queries."""

    def __init__(self, pages: list, status: int = 200) -> None:
        self.pages, self.status, self.queries = pages, status, []

    async def __call__(self, scope, receive, send):
        query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if p)
        self.queries.append(query)
        n = int(query.get("%24skiptoken", query.get("$skiptoken", "0")))
        page = self.pages[n]
        if isinstance(page, dict) and n + 1 < len(self.pages):
            page = {**page, "nextLink": f"https://127.0.0.1{BASE}?api-version=x&$skiptoken={n + 1}"}
        body = page if isinstance(page, bytes) else json.dumps(page).encode()
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": body})


def _list(upstream, item=None):
    return asyncio.run(Bridge(upstream).list("token", BASE, "Microsoft.Kubernetes", item))


def test_typed_list_follows_every_page_and_keeps_only_the_fields_asked_for():
    refused = _cluster(2, connectivityStatus="Offline", privateLinkState="Enabled",
                       privateLinkScopeResourceId="/scopes/pls",
                       miscellaneousProperties={"arclinkConnectivityCode": "PublicNetworkAccessDisabled",
                                                "arclinkConnectivityReason": "why", "other": "x"})
    upstream = Pages([{"value": [_cluster(0), _cluster(1, connectivityStatus="Connected")]}, {"value": [refused]}])
    ans = _list(upstream, ClusterRow)
    assert ans.ok and len(upstream.queries) == 2
    rows = ans.body["value"]
    assert [type(r) for r in rows] == [ClusterRow] * 3
    assert [r.name for r in rows] == ["c0", "c1", "c2"]
    assert rows[0].props.connectivityStatus is None and rows[1].props.connectivityStatus == "Connected"
    assert rows[2].code == "PublicNetworkAccessDisabled" and rows[2].props.privateLinkScopeResourceId == "/scopes/pls"
    assert rows[0].code is None


def test_untyped_list_gives_the_documents_as_they_are():
    doc = _cluster(0, connectivityStatus="Connected")
    ans = _list(Pages([{"value": [doc]}]))
    assert ans.ok and ans.body == {"value": [doc]}


def test_an_item_of_the_wrong_shape_is_left_out_not_the_page():
    bad = {"id": f"{BASE}/c9", "name": 9, "properties": {"connectivityStatus": ["not", "a", "string"]}}
    ans = _list(Pages([{"value": [_cluster(0), bad, _cluster(1)]}]), ClusterRow)
    assert ans.ok and [r.name for r in ans.body["value"]] == ["c0", "c1"]


def test_a_page_that_is_not_a_list_is_an_error_not_an_empty_list():
    ans = _list(Pages([b"<html>proxy error</html>"]), ClusterRow)
    assert ans.status == 502 and "InvalidListPage" in ans.error
    ans = _list(Pages([["a", "list", "but", "not", "a", "page"]]))
    assert ans.status == 502


def test_arm_refusing_the_list_is_passed_on():
    upstream = Pages([{"error": {"code": "AuthorizationFailed", "message": "no"}}], status=403)
    ans = _list(upstream, ClusterRow)
    assert ans.status == 403 and ans.error == "AuthorizationFailed: no"
