"""An emulator with the demo's hub and sites but no scope yet, and a headless Chromium that never leaves loopback.

The browser is Debian's ``chromium`` driven by Playwright (its own browser download is not used).
Every request the browser makes is routed through ``page.route``: one to a host that is not
loopback is aborted and fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_module, require_tool

HERE = Path(__file__).resolve().parent
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    from arclink.agent.arm_client import ArmClient, Endpoints
    from arclink.cli import demo
    from arclink.stack import start_services

    state = tmp_path_factory.mktemp("portal-emulator")
    svc = start_services(state, in_memory=True, host="127.0.0.1")
    arm = ArmClient(Endpoints.load(state / "endpoints.json"))
    topo = demo.topology(arm.subscription)
    topo["privateLinkScopes"], topo["privateEndpoints"] = [], []  # the scope is made in the portal, the endpoint by SDK
    demo.apply_seed_steps(arm, topo=topo)
    svc.arm, svc.endpoints_path = arm, state / "endpoints.json"
    yield svc
    arm.close()
    svc.stop()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    require_module("playwright")
    chromium = require_tool("chromium")
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    escaped: list[str] = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=BROWSER_ARGS, ignore_https_errors=True,
            bypass_csp=True,  # axe is injected as an inline script; the portal's own CSP allows no inline script
            viewport={"width": 1100, "height": 760}, service_workers="block")

        def guard(route):
            host = urlsplit(route.request.url).hostname or ""
            if route.request.url.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost", "::1"):
                route.continue_()
            else:
                escaped.append(route.request.url)
                route.abort()
        ctx.route("**/*", guard)
        ctx.escaped = escaped
        yield ctx
        ctx.close()
    assert not escaped, f"the browser tried to leave loopback: {escaped}"


@pytest.fixture
def screenshots(tmp_path_factory):
    """Where page screenshots go: $ARCLINK_SCREENSHOTS, else a folder of the test run."""
    where = os.environ.get("ARCLINK_SCREENSHOTS")
    folder = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
