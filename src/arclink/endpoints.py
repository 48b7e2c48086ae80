"""``endpoints.json``, the file ``arclink serve`` writes: read and checked in one place.

Shared by the SDK helpers, the command line and the agent runtime, so that every
command says the same thing about the same bad file.
"""

from __future__ import annotations

import json
from pathlib import Path

from arclink.net import is_loopback  # noqa: F401  (the doctor imports it from here)

REQUIRED = ("arm", "ca_cert", "token", "subscription")
# The emulator's default service principal and where to sign it in (a serve with a token service writes them).
PRINCIPAL = ("authority", "tenant", "client_id", "client_secret")


class EndpointsError(ValueError):
    """endpoints.json is missing, unreadable or not written by ``arclink serve``: one sentence and the fix."""


def locate(path) -> Path:
    """A state directory stands for the endpoints.json inside it."""
    p = Path(path)
    return p / "endpoints.json" if p.is_dir() else p


def read_endpoints(path) -> dict:
    p = locate(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EndpointsError(f"{p} does not exist. Start the emulator with 'arclink serve --state DIR' (it writes "
                             "DIR/endpoints.json) and pass that file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EndpointsError(f"{p} is not a readable endpoints.json ({exc}).") from None
    except json.JSONDecodeError as exc:
        raise EndpointsError(f"{p} is not a readable endpoints.json (not JSON: {exc.msg} at line {exc.lineno}); "
                             "restart 'arclink serve' to rewrite it.") from None
    if not isinstance(data, dict):
        raise EndpointsError(f"{p} is not an endpoints.json written by 'arclink serve' (it holds no JSON object).")
    missing = [k for k in REQUIRED if not data.get(k)]
    if missing:
        raise EndpointsError(f"{p} lacks the key {', '.join(repr(k) for k in missing)}; it was not written by "
                             "'arclink serve'.")
    return data


def missing_principal(ep: dict) -> list[str]:
    """The keys of the default service principal that ``ep`` (a read endpoints.json) lacks."""
    return [k for k in PRINCIPAL if not ep.get(k)]
