"""Fixtures: an emulator on port 0 with its token service, the real az, and a proxy that refuses."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulator(tmp_path):
    from arclink.stack import start_services

    svc = start_services(tmp_path / "state", in_memory=True)
    yield svc
    svc.stop()


def request(svc, method: str, path: str, *, form: dict | None = None, token: str | None = None,
            body: dict | None = None):
    """(status, JSON body, headers) of one HTTPS request to the emulator, no SDK in between."""
    ep = svc.endpoints
    data, headers = None, {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(ep["arm"] + path, data=data, method=method, headers=headers)
    ctx = ssl.create_default_context(cafile=ep["ca_cert"])
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            text = resp.read()
            return resp.status, (json.loads(text) if text else None), resp.headers
    except urllib.error.HTTPError as exc:
        text = exc.read()
        return exc.code, (json.loads(text) if text else None), exc.headers


def find_test_az() -> str | None:
    explicit = os.environ.get("ARCLINK_TEST_AZ")
    if explicit:
        return explicit
    venv = REPO / ".venv-az" / "bin" / "az"
    if os.access(venv, os.X_OK):
        return str(venv)
    return shutil.which("az")


@pytest.fixture
def az():
    path = find_test_az()
    if path is None:
        from tests.conftest import unavailable

        unavailable("the Azure CLI is not installed: .ci/run puts it in .venv-az (or set ARCLINK_TEST_AZ)")
    return path


class _Refuse(BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]
        self.send_response(403, "arclink tests: no traffic beyond loopback")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    do_CONNECT = do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _refuse

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def refusing_proxy():
    """A loopback HTTP(S) proxy that refuses every request and records it (az must send none)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
