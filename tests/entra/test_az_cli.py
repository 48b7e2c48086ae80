"""The real Azure CLI against the emulator: ``arclink az-login``, then ARM commands, never leaving loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _env(proxy, **extra) -> dict:
    """az's environment: every request not to loopback goes to a proxy that refuses and records it."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY",
                                                                   "ALL_PROXY", "AZURE_CONFIG_DIR")}
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    env.update({"HTTPS_PROXY": url, "HTTP_PROXY": url, "NO_PROXY": "127.0.0.1,localhost",
                "AZURE_CORE_COLLECT_TELEMETRY": "no", "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
                "AZURE_CORE_INSTANCE_DISCOVERY": "false", **extra})
    return env


def _arclink(args, env):
    return subprocess.run([sys.executable, "-m", "arclink", *args], env=env, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)


def test_az_login_then_arm_commands(emulator, az, refusing_proxy):
    ep = emulator.endpoints
    env = _env(refusing_proxy)
    login = _arclink(["az-login", "--emulator", str(emulator.state_dir / "endpoints.json"), "--az", az], env)
    assert login.returncode == 0, login.stderr
    exports = dict(line.removeprefix("export ").split("=", 1) for line in login.stdout.splitlines())
    assert exports == {"AZURE_CONFIG_DIR": str(emulator.state_dir / "az"), "REQUESTS_CA_BUNDLE": ep["ca_cert"]}
    env.update(exports)

    def az_json(*args):
        proc = subprocess.run([az, *args], env=env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, (args, proc.stderr)
        return json.loads(proc.stdout)

    assert az_json("group", "create", "-n", "rg-az", "-l", "westeurope")["name"] == "rg-az"
    assert [g["name"] for g in az_json("group", "list")] == ["rg-az"]
    account = az_json("account", "show")
    assert (account["id"], account["tenantId"], account["user"]) == (
        ep["subscription"], ep["tenant"], {"name": ep["client_id"], "type": "servicePrincipal"})
    assert account["environmentName"] == "arclink"
    # the group az made is the emulator's: the static token sees it too
    from tests.entra.conftest import request

    status, body, _ = request(emulator, "GET", f"/subscriptions/{ep['subscription']}/resourcegroups/rg-az"
                                               "?api-version=2022-09-01", token=ep["token"])
    assert status == 200 and body["location"] == "westeurope"
    assert refusing_proxy.seen == []

    # a second az-login (the emulator restarted on another port, say) updates the same cloud
    again = _arclink(["az-login", "--emulator", str(emulator.state_dir / "endpoints.json"), "--az", az], env)
    assert again.returncode == 0, again.stderr
    assert refusing_proxy.seen == []


def test_az_login_without_az_says_how_to_install_it(emulator, tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))
    proc = _arclink(["az-login", "--emulator", str(emulator.state_dir / "endpoints.json"),
                     "--az", str(tmp_path / "no-az")], env)
    assert proc.returncode == 2 and "install the Azure CLI" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_az_login_with_a_secret_that_begins_with_a_dash(tmp_path, az, refusing_proxy, monkeypatch):
    """A URL-safe secret begins with '-' one time in 64; az must not read it as an option."""
    import secrets

    from arclink import principals
    from arclink.cli.az_login import login
    from arclink.stack import start_services

    real = secrets.token_urlsafe
    monkeypatch.setattr(principals.secrets, "token_urlsafe", lambda n=None: "-" + real(n))
    svc = start_services(tmp_path / "state", in_memory=True)
    try:
        assert svc.endpoints["client_secret"].startswith("-")
        config_dir, _ = login(svc.state_dir / "endpoints.json", az)
        env = dict(_env(refusing_proxy), AZURE_CONFIG_DIR=str(config_dir), REQUESTS_CA_BUNDLE=svc.endpoints["ca_cert"])
        proc = subprocess.run([az, "account", "show"], env=env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0 and json.loads(proc.stdout)["tenantId"] == svc.endpoints["tenant"], proc.stderr
    finally:
        svc.stop()
    assert refusing_proxy.seen == []
