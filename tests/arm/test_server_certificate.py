"""The ARM listener's certificate names the address it serves on, so HTTPS clients verify it."""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

from arclink.stack import start_services


def _verified(ca: str, url: str) -> str:
    host, port = urlsplit(url).hostname, urlsplit(url).port
    ctx = ssl.create_default_context(cafile=ca)  # checks the chain and the address, as az and the SDKs do
    with socket.create_connection((host, port), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=host) as tls:
        return tls.version() or ""


def test_another_loopback_host_is_named_in_the_certificate(tmp_path):
    state = tmp_path / "state"
    svc = start_services(state, in_memory=True)  # the first certificate: 127.0.0.1, ::1, localhost
    try:
        assert _verified(svc.endpoints["ca_cert"], svc.endpoints["arm"]).startswith("TLS")
    finally:
        svc.stop()
    svc = start_services(state, in_memory=True, host="127.0.0.2")  # same state: reissued to name 127.0.0.2
    try:
        assert "127.0.0.2" in svc.endpoints["arm"]
        assert _verified(svc.endpoints["ca_cert"], svc.endpoints["arm"]).startswith("TLS")
    finally:
        svc.stop()
