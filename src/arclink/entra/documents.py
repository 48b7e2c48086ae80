"""The documents the token service publishes, and Entra's error shape.

Discovery documents follow ``login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration``
(v2), its v1 form and the ADFS form; ``/metadata/endpoints`` follows ARM's cloud metadata, which
``az cloud register --endpoint-resource-manager`` reads (``authentication.loginEndpoint`` and
``authentication.audiences[0]`` become the cloud's Entra authority and token audience).
"""

from __future__ import annotations

import datetime as dt
import uuid

from arclink.tokens import ARM_AUDIENCES

CLOUD_NAME = "arclink"


class EntraError(Exception):
    """An answer in Entra's error shape: ``error``, ``error_description`` with the AADSTS code, ``error_codes``."""

    def __init__(self, status: int, error: str, code: int, description: str):
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description

    def body(self, base: str) -> dict:
        now = dt.datetime.now(dt.timezone.utc)
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        return {"error": self.error,
                "error_description": f"AADSTS{self.code}: {self.description} Trace ID: {trace} Correlation ID: "
                                     f"{correlation} Timestamp: {stamp}",
                "error_codes": [self.code], "timestamp": stamp, "trace_id": trace, "correlation_id": correlation,
                "error_uri": f"{base}/error?code={self.code}"}


def unknown_tenant(tenant: str) -> EntraError:
    return EntraError(400, "invalid_request", 90002,
                      f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
                      "into the correct cloud. This emulator serves one tenant: the 'tenant' in its endpoints.json.")


def missing_parameter(name: str) -> EntraError:
    return EntraError(400, "invalid_request", 900144, f"The request body must contain the following parameter: "
                                                      f"'{name}'.")


def openid_configuration(base: str, tenant: str, *, version: str) -> dict:
    """The OIDC discovery document; ``version`` is "v2.0", "v1" or "adfs"."""
    if version == "v2.0":
        oauth, issuer, keys = f"{base}/{tenant}/oauth2/v2.0", f"{base}/{tenant}/v2.0", f"{base}/{tenant}/discovery/v2.0/keys"
    elif version == "adfs":
        oauth, issuer, keys = f"{base}/adfs/oauth2", f"{base}/adfs", f"{base}/adfs/discovery/keys"
    else:
        oauth, issuer, keys = f"{base}/{tenant}/oauth2", f"{base}/{tenant}/", f"{base}/{tenant}/discovery/keys"
    return {
        "token_endpoint": f"{oauth}/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": keys,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "grant_types_supported": ["client_credentials", "authorization_code"],
        "issuer": issuer,
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{oauth}/authorize",
        "device_authorization_endpoint": f"{oauth}/devicecode",
        "end_session_endpoint": f"{oauth}/logout",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "appid", "ver"],
        "tenant_region_scope": None,
        "cloud_instance_name": CLOUD_NAME,
        "cloud_graph_host_name": "",
        "msgraph_host": "",
        "rbac_url": "",
    }


def cloud_metadata(base: str, api_version: str | None) -> dict | list:
    """ARM's ``/metadata/endpoints``: one cloud (2022-09-01 and later, as az asks), a list of clouds before."""
    cloud = {
        "name": CLOUD_NAME,
        "portal": base,
        "resourceManager": f"{base}/",
        "authentication": {"loginEndpoint": base, "audiences": list(ARM_AUDIENCES), "tenant": "common",
                           "identityProvider": "AAD"},
        "media": "", "graphAudience": "", "graph": "", "batch": "", "gallery": "", "sqlManagement": "",
        "activeDirectoryDataLake": "", "vmImageAliasDoc": "",
        # the emulated resources are public-cloud resources, named by the public cloud's suffixes
        "suffixes": {"storage": "core.windows.net", "keyVaultDns": "vault.azure.net",
                     "sqlServerHostname": "database.windows.net", "acrLoginServer": "azurecr.io"},
    }
    if api_version and api_version < "2022-09-01":
        return [cloud]
    return cloud
