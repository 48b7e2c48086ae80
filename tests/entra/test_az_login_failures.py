"""Login failures as the real az shows them: Entra's AADSTS errors at login, ARM's 401 codes on a request.

az itself never sends an expired token (MSAL renews it) nor one for another audience (it asks for ARM's);
such a token reaches ARM when someone hands it over, as ``az rest --headers Authorization=...`` does
(az adds no token of its own then). The tokens are made with the emulator's own key, so only the
claim under test is wrong.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from arclink import tokens

pytestmark = pytest.mark.slow


def _recording_env(config_dir, ca, proxy) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "AZURE_CONFIG_DIR")}
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    env.update({"AZURE_CONFIG_DIR": str(config_dir), "REQUESTS_CA_BUNDLE": ca, "HTTPS_PROXY": url,
                "HTTP_PROXY": url, "NO_PROXY": "127.0.0.1,localhost", "AZURE_CORE_COLLECT_TELEMETRY": "no",
                "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no", "AZURE_CORE_INSTANCE_DISCOVERY": "false"})
    return env


@pytest.fixture
def logged_in(emulator, az, refusing_proxy):
    """az's environment after ``arclink az-login``, with the recording proxy for anything beyond loopback."""
    from arclink.cli.az_login import login

    config_dir, ca = login(emulator.state_dir / "endpoints.json", az)
    yield _recording_env(config_dir, ca, refusing_proxy)
    assert refusing_proxy.seen == []


@pytest.fixture
def not_logged_in(emulator, az, refusing_proxy, tmp_path):
    """az with the emulator registered as its cloud and no login yet (az-login's steps short of 'az login')."""
    from arclink.cli.az_login import CLOUD, az_environment, write_settings

    config_dir, ca = tmp_path / "az-fresh", emulator.endpoints["ca_cert"]
    write_settings(config_dir)
    setup = az_environment(config_dir, ca)  # the once-only version check of a fresh directory fails at once
    for args in (["cloud", "register", "-n", CLOUD, "--endpoint-resource-manager", emulator.endpoints["arm"]],
                 ["cloud", "set", "-n", CLOUD]):
        assert _az(az, setup, *args).returncode == 0
    yield _recording_env(config_dir, ca, refusing_proxy)
    assert refusing_proxy.seen == []


def _az(az, env, *args):
    return subprocess.run([az, *args], env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("case, aadsts", [("wrong secret", "AADSTS7000215"), ("unknown client", "AADSTS700016"),
                                          ("unknown tenant", "AADSTS90002")])
def test_az_login_failure_shows_the_aadsts_error(emulator, az, not_logged_in, case, aadsts):
    ep = emulator.endpoints
    client, secret, tenant = ep["client_id"], ep["client_secret"], ep["tenant"]
    if case == "wrong secret":
        secret = "not-the-secret"
    elif case == "unknown client":
        client = "33333333-3333-3333-3333-333333333333"
    else:
        tenant = "44444444-4444-4444-4444-444444444444"
    proc = _az(az, not_logged_in, "login", "--service-principal", "-u", client, f"--password={secret}",
                "--tenant", tenant)
    assert proc.returncode != 0
    assert aadsts in proc.stderr, proc.stderr
    if case != "unknown tenant":  # az prints MSAL's traceback when OIDC discovery fails, as it does against Azure
        assert "Traceback" not in proc.stderr


def _forged(emulator, **overrides) -> str:
    ep = emulator.endpoints
    args = {"authority": ep["authority"], "tenant": ep["tenant"], "audience": "https://management.azure.com/",
            "client_id": ep["client_id"], "object_id": "00000000-0000-0000-0000-0000000000aa"}
    args.update(overrides)
    return tokens.issue(tokens.load_signing_key(emulator.state_dir), **args)[0]


@pytest.mark.parametrize("case, code", [("expired", "ExpiredAuthenticationToken"),
                                        ("wrong audience", "InvalidAuthenticationTokenAudience"),
                                        ("other tenant", "InvalidAuthenticationTokenTenant")])
def test_az_rest_with_a_bad_token_gets_arms_401(emulator, az, logged_in, case, code):
    if case == "expired":
        token = _forged(emulator, now=int(time.time()) - 7200)
    elif case == "wrong audience":
        token = _forged(emulator, audience="https://graph.microsoft.com/")
    else:
        token = _forged(emulator, tenant="22222222-2222-2222-2222-222222222222")
    url = f"/subscriptions/{emulator.endpoints['subscription']}/resourcegroups?api-version=2025-04-01"
    proc = _az(az, logged_in, "rest", "--method", "get", "--url", url, "--headers", f"Authorization=Bearer {token}")
    assert proc.returncode != 0
    assert "Unauthorized" in proc.stderr and code in proc.stderr, proc.stderr
    # the token az holds itself is fine: the same request without the header succeeds
    proc = _az(az, logged_in, "rest", "--method", "get", "--url", url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["value"] == []


@pytest.mark.parametrize("command", [["logout"], ["account", "clear"]])
def test_az_logout_and_account_clear_work(emulator, az, logged_in, command):
    """Both open MSAL on the ``organizations`` alias, which Entra serves; az then holds no login."""
    assert _az(az, logged_in, "account", "show").returncode == 0
    proc = _az(az, logged_in, *command)
    assert proc.returncode == 0, proc.stderr
    assert "AADSTS" not in proc.stderr
    after = _az(az, logged_in, "account", "show")
    assert after.returncode != 0 and "az login" in after.stderr
