"""The gateway's certificate: the Arc FQDNs, signed by the emulator CA, made once per state dir."""

from __future__ import annotations

import ssl
from pathlib import Path

from arclink import pki
from arclink.model import catalogue as cat


def arc_dns_names() -> list[str]:
    """Every name an agent may dial: the public Arc zones and their privatelink twins."""
    names = []
    for z in cat.ARC_ZONES:
        for zone in (z.public_zone, z.private_zone):
            names += [zone, f"*.{zone}"]
    return names


def gateway_cert(state_dir: str | Path) -> tuple[Path, Path]:
    d = Path(state_dir)
    cert, key = d / "gateway.pem", d / "gateway-key.pem"
    if not (cert.exists() and key.exists()):
        ca = pki.ensure_ca(d)
        cert_pem, key_pem = pki.issue_server_cert(ca, arc_dns_names(), common_name=cat.DISCOVERY_NAME)
        cert, key = pki.write_leaf(d, "gateway", cert_pem, key_pem)
    return cert, key


def server_context(state_dir: str | Path) -> ssl.SSLContext:
    cert, key = gateway_cert(state_dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx
