"""Read a running emulator: its endpoints.json and its control API's state dump (HTTPS, loopback only)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from arclink.cli.main import UserError


def read_endpoints(path) -> dict:
    from arclink.endpoints import EndpointsError, read_endpoints as _read

    try:
        return _read(path)
    except EndpointsError as exc:
        raise UserError(str(exc), 2) from None


def _loopback_url(url: str) -> None:
    from arclink.net import is_loopback

    if not is_loopback(urlsplit(url).hostname):
        raise UserError(f"the emulator address {url} is not on loopback; arclink only talks to a local emulator.", 2)


def control_get(path, what: str, query: str = "") -> dict:
    """GET /_arclink/<what> on the emulator named by endpoints.json ``path``."""
    return control_send(path, "GET", what + query)


def control_send(path, method: str, what: str, body: bytes | None = None) -> dict:
    """A control-API request (``/_arclink/<what>``) with an optional JSON body; the JSON answer."""
    ep = read_endpoints(path)
    _loopback_url(ep["arm"])
    try:
        ctx = ssl.create_default_context(cafile=ep["ca_cert"])
    except (OSError, ssl.SSLError) as exc:
        raise UserError(f"cannot load the emulator's CA {ep['ca_cert']}: {exc}.", 2) from None
    req = urllib.request.Request(f"{ep['arm']}/_arclink/{what}", data=body, method=method,
                                 headers={"Authorization": f"Bearer {ep['token']}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            msg = json.loads(exc.read())["error"]["message"]
        except Exception:
            msg = exc.reason
        raise UserError(f"the emulator answered {exc.code}: {msg}", 2) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"cannot reach the emulator at {ep['arm']} ({reason}); is 'arclink serve' running?", 2) from None


def fetch_topology(path):
    """The running emulator's state as a ``schema.Topology``."""
    import msgspec

    from arclink.model import schema

    doc = control_get(path, "state")
    try:
        return msgspec.convert(doc, schema.Topology)
    except msgspec.ValidationError as exc:
        raise UserError(f"the emulator's state is not a topology: {exc}.", 2) from None


def fetch_index(path):
    """The running emulator's state, indexed (``model.index.Index``)."""
    from arclink.model.errors import TopologyError
    from arclink.model.index import build_index

    try:
        return build_index(fetch_topology(path))
    except TopologyError as exc:
        raise UserError(f"the emulator's state does not index: {exc}.", 2) from None
