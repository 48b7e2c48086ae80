"""The page's portal steps in a real browser, against a running emulator.

Sign in through the emulator's Entra ID (authorization code with PKCE), create a scope with public
access disabled, approve the private endpoint connection an SDK created with manual approval, add a
cluster through *Azure Arc resources*, watch it turn Connected when its agent connects (server-sent
events, no reload), and see a refused cluster's path end red at the scope. Every page is checked
with axe-core (no serious or critical violations) and screenshotted.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path

from arclink.cli import demo

HERE = Path(__file__).resolve().parent
SCOPE = "pls-portal"
API_K8S = "2024-01-01"


def _axe(page) -> list:
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(HERE / "vendor" / "axe.min.js"))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result
            if v["impact"] in ("serious", "critical")]


def _check(page, shots: Path, name: str, checked: dict) -> None:
    checked[name] = _axe(page)
    page.screenshot(path=str(shots / f"{name}.png"))


def _agent(svc, name: str, onboarded):
    from arclink import pki
    from arclink.agent.arm_client import Endpoints
    from arclink.agent.resolver import DnsResolver
    from arclink.agent.runtime import Agent

    ep = Endpoints.load(svc.endpoints_path)
    agent = Agent(name, pki.load_private_key(onboarded.key_file), onboarded.address, demo.LOC, gateway=ep.gateway,
                  ca_cert=ep.ca_cert, resolver=DnsResolver(*ep.dns), heartbeat_interval=0.2)
    return asyncio.run(agent.run_once(heartbeats=1))


def _onboard(svc, name: str, address: str, location: str = demo.LOC):
    """A cluster connected to Arc without private link, as 'az connectedk8s connect' makes it."""
    from arclink.agent.onboard import ConnectRequest, connect

    req = ConnectRequest(demo.CLUSTER_RG, name, location, site="store-amsterdam", address=address,
                         enable_private_link=False, yes=True, key_kind="ec")
    return connect(svc.arm, req, Path(svc.endpoints_path).parent, warn=lambda m: None)


def _sdk_private_endpoint(svc, scope_id: str) -> None:
    """The private endpoint with manual approval and its DNS zone group, through the Azure SDK."""
    from azure.mgmt.network import NetworkManagementClient

    from arclink.model import catalogue as cat
    from arclink.sdk import EmulatorCredential, client_kwargs

    sub = svc.arm.subscription
    net = NetworkManagementClient(EmulatorCredential(svc.endpoints_path), sub, **client_kwargs(svc.endpoints_path))
    hub = f"/subscriptions/{sub}/resourceGroups/{demo.HUB_RG}/providers"
    net.private_endpoints.begin_create_or_update(demo.HUB_RG, "pe-portal", {"location": demo.LOC, "properties": {
        "subnet": {"id": f"{hub}/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-endpoints"},
        "manualPrivateLinkServiceConnections": [{"name": "pe-portal", "properties": {
            "privateLinkServiceId": scope_id, "groupIds": [cat.ARC_GROUP_ID],
            "requestMessage": "please approve"}}]}}).result()
    from arclink.agent.fleet import arc_private_zones

    net.private_dns_zone_groups.begin_create_or_update(demo.HUB_RG, "pe-portal", "default", {"properties": {
        "privateDnsZoneConfigs": [{"name": z.replace(".", "-"), "properties": {
            "privateDnsZoneId": f"{hub}/Microsoft.Network/privateDnsZones/{z}"}} for z in arc_private_zones()]}}).result()
    net.close()


def test_portal_steps_in_a_browser(emulator, browser_context, screenshots):
    from playwright.sync_api import expect

    ep = json.loads(Path(emulator.endpoints_path).read_text())
    base = ep["arm"]
    page = browser_context.new_page()
    checked: dict[str, list] = {}

    # nothing is visible without signing in
    page.goto(base + "/portal/clusters")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the arclink portal")
    _check(page, screenshots, "signin", checked)
    page.get_by_role("link", name="Sign in with Microsoft Entra ID").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to arclink")
    page.get_by_label("Email or user name").fill(ep["user"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("incorrect")
    expect(page.get_by_label("Email or user name")).to_have_value(ep["user"])  # kept for the second try
    page.get_by_label("Password").fill(ep["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clusters")  # back where the user was going
    expect(page.get_by_text(f"Signed in as {ep['user']}")).to_be_visible()

    # create the scope with public network access disabled
    page.get_by_role("link", name="Azure Arc Private Link Scopes").click()
    page.get_by_label("Resource group").fill(demo.HUB_RG)
    page.get_by_label("Name", exact=True).fill(SCOPE)
    page.get_by_label("Region").select_option("westeurope")
    expect(page.get_by_label("Disabled: clusters connect through private endpoints only")).to_be_checked()
    _check(page, screenshots, "scopes", checked)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Scope {SCOPE}")
    scope_id = page.url.split("id=", 1)[1].replace("%2F", "/")
    scope = emulator.arm.get(scope_id, "2024-07-10")
    assert scope["properties"]["publicNetworkAccess"] == "Disabled"

    # the private endpoint with manual approval, through the SDK: Pending until approved in the portal
    _sdk_private_endpoint(emulator, scope["id"])
    page.reload()
    pec = page.locator("[data-pec-status]")
    expect(pec).to_have_text("Pending")
    page.get_by_role("button", name="Approve").focus()
    page.keyboard.press("Enter")  # by keyboard
    expect(page.get_by_role("status").filter(has_text="is approved")).to_be_visible()
    expect(pec).to_have_text("Approved")
    pecs = emulator.arm.get(scope["id"] + "/privateEndpointConnections", "2024-07-10")["value"]
    assert pecs[0]["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"

    # the endpoint's DNS configuration, as the portal shows it
    page.get_by_role("link", name="pe-portal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Private endpoint pe-portal")
    dns = page.get_by_role("table", name="Customer visible FQDNs")
    expect(dns).to_contain_text("weu.his.arc.azure.com")
    expect(dns).to_contain_text("10.10.1.")
    expect(page.get_by_role("table", name="Configuration name (the zone group's zones)")).to_contain_text(
        "privatelink.his.arc.azure.com")
    _check(page, screenshots, "endpoint", checked)

    # two clusters at the store; Add lists only those in the scope's subscription and region
    store = _onboard(emulator, "k3s-amsterdam", "192.168.10.10")
    pos = _onboard(emulator, "k3s-amsterdam-pos", "192.168.10.11")
    _onboard(emulator, "k3s-newyork", "192.168.10.12", "eastus")  # another region: not offered
    page.goto(base + "/portal/scope?id=" + scope["id"])
    options = page.get_by_label("Cluster").locator("option").all_inner_texts()
    assert [o.split(" ")[0] for o in options] == ["k3s-amsterdam", "k3s-amsterdam-pos"]
    page.get_by_label("Cluster").select_option(label=f"k3s-amsterdam ({demo.CLUSTER_RG})")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status").filter(has_text="Added k3s-amsterdam")).to_be_visible()
    expect(page.get_by_role("table", name="Azure Arc resources")).to_contain_text("k3s-amsterdam")
    cluster = emulator.arm.get(store.id, API_K8S)["properties"]
    assert cluster["privateLinkState"] == "Enabled" and cluster["privateLinkScopeResourceId"].lower() == \
        scope["id"].lower()
    _check(page, screenshots, "scope", checked)

    # the clusters page turns Connected as the agent connects, without a reload
    page.get_by_role("link", name="Clusters", exact=True).click()
    status = page.locator('[data-cluster-status="k3s-amsterdam"]')
    expect(status).to_have_text("Connecting")
    reports: dict = {}
    runner = threading.Thread(target=lambda: reports.update(ok=_agent(emulator, "k3s-amsterdam", store),
                                                           bad=_agent(emulator, "k3s-amsterdam-pos", pos)))
    runner.start()
    expect(status).to_have_text("Connected", timeout=30_000)
    runner.join(60)
    assert reports["ok"].admitted and not reports["bad"].admitted
    expect(page.locator("#live-status")).to_contain_text("k3s-amsterdam")  # announced to screen readers
    refused_row = page.get_by_role("row").filter(has_text="k3s-amsterdam-pos")
    expect(refused_row).to_contain_text("ClusterNotAssociatedWithScope", timeout=30_000)
    _check(page, screenshots, "clusters", checked)

    # the picture: the admitted path green to the scope, the refused one red and ending at the scope hop
    page.get_by_role("link", name="Overview").click()
    svg = page.locator("svg.pic")
    # The picture is computed in the background: the page shows the latest finished computation and
    # replaces it when the event stream says a newer one is ready, so wait for the condition.
    admitted = svg.locator('a[data-kind="cluster"][aria-label^="Cluster k3s-amsterdam admitted"]')
    expect(admitted).to_have_attribute("aria-label", "Cluster k3s-amsterdam admitted", timeout=30_000)
    refused = svg.locator('a[data-kind="cluster"][aria-label^="Cluster k3s-amsterdam-pos "]')
    expect(refused).to_have_attribute("aria-label", re.compile(
        f" refused at scope {SCOPE} \\(ClusterNotAssociatedWithScope\\)$"), timeout=30_000)
    scope_node = svg.locator(f'a[data-kind="scope"][aria-label^="Scope {SCOPE} "]')
    expect(scope_node).to_have_class(re.compile(r"\bfail\b"), timeout=30_000)  # the failing hop is marked
    expect(page.locator(".asof")).to_have_attribute("data-updating", "false", timeout=30_000)
    node_id = scope_node.get_attribute("data-id")
    into_scope = svg.locator(f'path[data-target="{node_id}"]')
    assert sorted({into_scope.nth(i).get_attribute("data-verdict") for i in range(into_scope.count())}) == \
        ["admitted", "refused"]
    assert svg.locator('path[data-verdict="refused"]').first.get_attribute("stroke") == "#c50f1f"  # red
    expect(page.get_by_role("table", name="Paths (the picture as a table)")).to_contain_text(
        "ClusterNotAssociatedWithScope")
    _check(page, screenshots, "overview", checked)

    # clicking a cluster shows its explain trace
    refused.locator("rect").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cluster k3s-amsterdam-pos")
    expect(page.locator("main")).to_contain_text("REFUSED ClusterNotAssociatedWithScope")
    expect(page.locator("main")).to_contain_text("FAIL admission")
    _check(page, screenshots, "cluster", checked)

    # findings link to their rule pages
    page.get_by_role("link", name="Findings").click()
    _check(page, screenshots, "findings", checked)
    first_rule = page.locator("table a[href^='/portal/rules/']").first
    rule = first_rule.inner_text()
    first_rule.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(rule)
    _check(page, screenshots, "rule", checked)

    # readable in a narrow window
    page.set_viewport_size({"width": 380, "height": 760})
    page.goto(base + "/portal/scope?id=" + scope["id"])
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 400, f"the scope page scrolls sideways in a narrow window ({width}px)"
    _check(page, screenshots, "scope-narrow", checked)

    assert {k: v for k, v in checked.items() if v} == {}, "axe found serious or critical violations"
    page.close()
