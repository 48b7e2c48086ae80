"""Use the real Azure SDKs against ``arclink serve``.

    from azure.mgmt.resource.resources import ResourceManagementClient
    from arclink.sdk import EmulatorCredential, client_kwargs, read_endpoints

    path = ".arclink/endpoints.json"
    ep = read_endpoints(path)
    client = ResourceManagementClient(EmulatorCredential(path), ep["subscription"], **client_kwargs(path))
"""

from __future__ import annotations

import time

from arclink.endpoints import EndpointsError, read_endpoints  # noqa: F401  (part of this module's API)

ARM_SCOPE = "https://management.azure.com/.default"


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
