"""The portal on a fleet: every cluster listed, groups that open their own clusters, traces without
a site, and the picture computed in the background.

The portal is driven in-process (ASGI) around the emulator's ARM app, through an upstream that
records every request the portal makes, so "no request per cluster" is checked, not assumed.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from html import unescape
from types import SimpleNamespace
from urllib.parse import urlencode

import msgspec
import pytest

from arclink.model.picture import picture

SITES, CLUSTERS = 3, 130  # more than one page of ARM's list (100), groups of more than three clusters


class Recording:
    """The ARM app, with the path of every request the portal sends it."""

    def __init__(self, app):
        self.app, self.paths = app, []

    async def __call__(self, scope, receive, send):
        self.paths.append(scope["path"])
        await self.app(scope, receive, send)


class InProcess:
    def __init__(self, svc):
        from arclink.portal import Portal, with_portal

        self.upstream = Recording(svc.app)
        self.portal = Portal(self.upstream, svc.live, tenant=svc.endpoints["tenant"],
                             subscription=svc.endpoints["subscription"], static_token=svc.endpoints["token"],
                             entra=False)
        self.app = with_portal(self.upstream, self.portal)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        return asyncio.run(self._request(method, path, form))

    async def _request(self, method: str, path: str, form: dict | None) -> tuple[int, dict, str]:
        body = urlencode(form).encode() if form is not None else b""
        path, _, query = path.partition("?")
        headers = [(b"host", b"127.0.0.1")]
        if self.cookie:
            headers.append((b"cookie", self.cookie.encode()))
        if form is not None:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(), "headers": headers}
        out: dict = {"status": 0, "headers": {}, "body": b""}
        sent = False

        async def receive():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(msg):
            if msg["type"] == "http.response.start":
                out["status"] = msg["status"]
                out["headers"] = {k.decode(): v.decode() for k, v in msg["headers"]}
            else:
                out["body"] += msg.get("body", b"")

        await self.app(scope, receive, send)
        return out["status"], out["headers"], out["body"].decode()

    def sign_in(self, token: str) -> None:
        status, headers, _ = self.request("POST", "/portal/signin/token", {"token": token, "next": "/portal/"})
        assert status == 303
        self.cookie = headers["set-cookie"].split(";", 1)[0]

    def settled(self, timeout: float = 120) -> int:
        """Wait until the background computation has caught up with the live model; its version."""
        comp = self.portal.computations
        comp.start()
        comp.changed()  # look now rather than at the next poll
        _until(lambda: not comp.updating and comp.latest is not None
               and comp.latest.version == self.portal.live.version, "the background computation", timeout)
        return comp.latest.version


def _fleet():
    """Three sites; the first site's DNS forwards to a public resolver (DNS wrong), every seventh
    cluster has private link disabled (refused), and one cluster has no site."""
    from arclink.agent import fleet

    topo = fleet.fleet_topology(SITES, [fleet.fleet_cluster(i, SITES) for i in range(CLUSTERS)])
    sites = [msgspec.structs.replace(s, dns=msgspec.structs.replace(s.dns, conditional_forwarders=[],
                                                                      upstream="8.8.8.8"))
             if i == 0 and s.dns is not None else s for i, s in enumerate(topo.sites)]
    clusters = [msgspec.structs.replace(c, private_link_state="Disabled", private_link_scope_resource_id=None)
                if i % 7 == 0 else c for i, c in enumerate(topo.clusters)]
    clusters[1] = msgspec.structs.replace(clusters[1], site=None, address=None)
    return msgspec.structs.replace(topo, sites=sites, clusters=clusters)


@pytest.fixture(scope="module")
def fleet_portal(tmp_path_factory):
    from arclink.stack import start_services

    svc = start_services(tmp_path_factory.mktemp("portal-fleet"), in_memory=True, topology=_fleet())
    harness = InProcess(svc)
    harness.sign_in(svc.endpoints["token"])
    harness.svc = svc
    yield harness
    harness.portal.close()
    svc.stop()


def _names(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/portal/cluster\?id=[^"]+">([^<]+)</a></th>', page)


def test_the_clusters_page_reads_every_cluster_and_their_extensions_without_a_request_each(fleet_portal):
    fleet_portal.settled()
    fleet_portal.upstream.paths.clear()
    status, _, page = fleet_portal.request("GET", "/portal/clusters")
    assert status == 200 and f"<p>{CLUSTERS} clusters;" in page  # all of ARM's pages, not the first 100
    assert len(_names(page)) == CLUSTERS
    assert not [p for p in fleet_portal.upstream.paths if "extensions" in p.lower()]
    assert len(fleet_portal.upstream.paths) <= 3  # the subscriptions, then one listing of up to 1,000
    row = re.search(r"k3s-00002</a></th>(.*?)</tr>", page).group(1)
    assert row.endswith("<td>microsoft.flux</td>")  # the extension, from the live model
    assert re.search(r'As of version \d+ \(computed in', page)


def test_a_group_of_the_picture_opens_exactly_its_clusters(fleet_portal):
    fleet_portal.settled()
    _, ix = fleet_portal.svc.live.snapshot()
    expected = picture(ix)
    status, _, page = fleet_portal.request("GET", "/portal/")
    groups = set(re.findall(r'href="/portal/clusters\?group=([^"]+)"', page))
    assert status == 200 and len(groups) >= 3
    assert groups == set(expected.members)
    verdict_names = {v: set() for v in ("admitted", "refused", "dns")}
    for gid in groups:
        status, _, listed = fleet_portal.request("GET", "/portal/clusters?group=" + unescape(gid))
        names = sorted(_names(listed))
        members = sorted(c.rsplit("/", 1)[-1] for c in expected.members[gid])
        assert status == 200 and names == members, gid
        verdicts = {expected.verdicts[c.lower()] for c in expected.members[gid]}
        assert len(verdicts) == 1  # one group, one verdict
        verdict_names[verdicts.pop()].update(names)
        assert f"The group {expected.nodes[gid].label} at " in unescape(listed)
    assert verdict_names["refused"] and verdict_names["dns"] and verdict_names["admitted"]
    status, _, gone = fleet_portal.request("GET", "/portal/clusters?group=clusters:0000")
    assert status == 200 and "has no such group" in gone and not _names(gone)


def test_the_picture_traced_one_cluster_at_a_time_is_the_picture_of_all_the_traces(fleet_portal):
    from arclink.model.index import build_index
    from arclink.model.trace import cluster_trace

    ix = build_index(_fleet())  # a fresh index: nothing memoised on it
    streamed = picture(ix)
    whole = picture(ix, [cluster_trace(ix, c) for c in ix.clusters.values()])
    assert streamed.verdicts == whole.verdicts and streamed.members == whole.members
    assert streamed.counts == whole.counts and list(streamed.nodes) == list(whole.nodes)
    assert [(p.nodes, p.verdict, p.code, p.fail_at, p.clusters) for p in streamed.paths] == \
        [(p.nodes, p.verdict, p.code, p.fail_at, p.clusters) for p in whole.paths]
    assert not [k for k in ix._memo if "traces" in str(k)]  # no trace kept on the index


def test_the_verdict_filter_keeps_the_clusters_of_that_verdict(fleet_portal):
    fleet_portal.settled()
    _, ix = fleet_portal.svc.live.snapshot()
    refused = sorted(c.rsplit("/", 1)[-1] for c, v in picture(ix).verdicts.items() if v == "refused")
    _, _, page = fleet_portal.request("GET", "/portal/clusters?verdict=refused")
    assert refused and sorted(n.lower() for n in _names(page)) == refused
    _, _, page = fleet_portal.request("GET", "/portal/clusters?verdict=sideways")
    assert "There is no verdict 'sideways'" in unescape(page) and not _names(page)


def test_a_cluster_without_a_site_shows_what_its_trace_can_say(fleet_portal):
    fleet_portal.settled()
    _, ix = fleet_portal.svc.live.snapshot()
    lonely = ix.cluster("k3s-00001")
    assert lonely is not None and lonely.site is None
    status, _, page = fleet_portal.request("GET", "/portal/cluster?" + urlencode({"id": lonely.id}))
    assert status == 200
    assert "No site: this cluster was not onboarded through a modelled network" in page
    assert "Resolves to 20." in page  # the public addresses, as public DNS answers from the internet
    assert re.search(r'<p class="(ok|bad)">(ADMITTED|REFUSED \w+)', page)
    sited = ix.cluster("k3s-00002")
    _, _, page = fleet_portal.request("GET", "/portal/cluster?" + urlencode({"id": sited.id}))
    assert f"<p>Site {sited.site.name}, address {sited.address}.</p>" in page and 'aria-label="Onboarding"' in page


def test_a_change_is_computed_in_the_background_and_announced_ready(fleet_portal):
    svc = fleet_portal.svc
    before = fleet_portal.settled()

    async def watch() -> list[str]:
        """The event stream until it says ``ready``, with a model change made once it is open."""
        from arclink.portal.app import PREFIX

        events: list[str] = []
        gone = asyncio.Event()
        ready = asyncio.Event()

        async def receive():
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(msg):
            text = msg.get("body", b"").decode()
            if text.startswith("event:"):
                events.append(text)
                if text.startswith("event: ready"):
                    ready.set()
            elif text.startswith("retry:"):
                opened.set()

        opened = asyncio.Event()
        scope = {"type": "http", "method": "GET", "path": PREFIX + "/events", "query_string": b"",
                 "headers": [(b"host", b"127.0.0.1"), (b"cookie", fleet_portal.cookie.encode())]}
        stream = asyncio.ensure_future(fleet_portal.app(scope, receive, send))
        await asyncio.wait_for(opened.wait(), 30)
        await asyncio.get_running_loop().run_in_executor(None, _toggle_public_access, svc)
        try:
            await asyncio.wait_for(ready.wait(), 120)
        finally:
            gone.set()
            await asyncio.wait_for(stream, 30)
        return events

    events = asyncio.run(watch())
    assert events[-1].startswith("event: ready")
    after = fleet_portal.portal.computations.latest.version
    assert after > before and f"data: {after}." in events[-1]
    _, _, page = fleet_portal.request("GET", "/portal/")
    assert f"As of version {after} " in page or "updating" in page


def _toggle_public_access(svc) -> None:
    from arclink.agent.arm_client import ArmClient, Endpoints
    from arclink.agent import fleet

    arm = ArmClient(Endpoints.from_dict(svc.endpoints, str(svc.state_dir)))
    try:
        scope = arm.get(fleet.scope_id(), "2024-07-10")
        pna = scope["properties"].get("publicNetworkAccess")
        arm.put(fleet.scope_id(), "2024-07-10", {"location": scope["location"], "properties": {
            "publicNetworkAccess": "Enabled" if pna == "Disabled" else "Disabled"}})
    finally:
        arm.close()


class _Live:
    """A live model whose versions the test publishes."""

    def __init__(self, ix):
        self.ix, self.version = ix, 1
        self.record_connectivity = None

    def snapshot(self):
        return self.version, self.ix


def _until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_one_worker_answers_from_the_last_result_and_coalesces_a_burst():
    from pathlib import Path

    from arclink.model import loader
    from arclink.portal import pages
    from arclink.portal.computed import Computations

    text = (Path(__file__).resolve().parents[2] / "examples" / "good.yaml").read_text()
    live = _Live(loader.loads(text))
    gate, computed = threading.Event(), []

    def render(ix, pic, findings):
        computed.append(live.version if ix is live.ix else "stale")
        if len(computed) > 1:
            gate.wait(60)  # the second computation takes as long as the test says
        return {}
    comp = Computations(live, render)  # in this process: the test holds the computation up
    req = SimpleNamespace(portal=SimpleNamespace(computations=comp))
    try:
        comp.start()
        _until(lambda: comp.latest is not None and not comp.updating, "the first computation")
        assert comp.latest.version == 1 and "As of version 1 (computed in" in pages.as_of(req, comp.latest)
        live.version, live.ix = 2, loader.loads(text)
        comp.changed()
        _until(lambda: comp.running == 2 and len(computed) == 2, "the second computation to start")
        assert comp.latest.version == 1 and comp.updating  # pages answer from version 1 meanwhile
        assert "As of version 1, updating…" in pages.as_of(req, comp.latest)
        for v in (3, 4, 5):  # a burst while version 2 is computed
            ix = loader.loads(text)
            live.ix, live.version = ix, v
            comp.changed()
        gate.set()
        _until(lambda: comp.latest.version == 5 and not comp.updating, "the burst's last version")
        assert computed == [1, 2, 5]  # 3 and 4 were never computed
        assert comp.latest.picture.counts == comp.latest.index.memo(("picture",), lambda: None).counts
    finally:
        gate.set()
        comp.close()
