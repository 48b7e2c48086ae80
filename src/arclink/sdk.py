"""Use the real Azure SDKs against ``arclink serve``.

    from azure.mgmt.resource.resources import ResourceManagementClient
    from arclink.sdk import EmulatorCredential, client_kwargs, read_endpoints

    path = ".arclink/endpoints.json"
    ep = read_endpoints(path)
    client = ResourceManagementClient(EmulatorCredential(path), ep["subscription"], **client_kwargs(path))
"""

from __future__ import annotations

import json
import time
from pathlib import Path

ARM_SCOPE = "https://management.azure.com/.default"


def read_endpoints(path) -> dict:
    """The emulator's endpoints.json as a dict (``ValueError`` with one clear sentence when unusable)."""
    p = Path(path)
    if p.is_dir():
        p = p / "endpoints.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{p} does not exist; start the emulator with 'arclink serve' (it writes endpoints.json "
                         "into its state directory).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {p}: {exc}.") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p} is not valid JSON ({exc.msg} at line {exc.lineno}); restart 'arclink serve' to "
                         "rewrite it.") from None
    missing = [k for k in ("arm", "ca_cert", "token", "subscription") if not isinstance(data, dict) or not data.get(k)]
    if missing:
        raise ValueError(f"{p} lacks {', '.join(missing)}; it was not written by 'arclink serve'.")
    return data


class EmulatorCredential:
    """An azure-core ``TokenCredential`` returning the emulator's token."""

    def __init__(self, endpoints_path):
        self._token = read_endpoints(endpoints_path)["token"]

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes, options=None):
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self._token, int(time.time()) + 3600)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def client_kwargs(endpoints_path) -> dict:
    """``base_url``, ``connection_verify`` (the emulator's CA) and ``credential_scopes`` for any azure-mgmt client."""
    ep = read_endpoints(endpoints_path)
    return {"base_url": ep["arm"], "connection_verify": ep["ca_cert"], "credential_scopes": [ARM_SCOPE]}
