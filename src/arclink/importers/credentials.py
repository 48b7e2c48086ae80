"""The two ways in: real Azure (``DefaultAzureCredential``) and the emulator (its service principal).

Both give an ``importers.azure.Source``; the reader does not know which one it has. The emulator's
principal signs in at the emulator's own token service with ``ClientSecretCredential``, the way a
service principal signs in to Entra ID.
"""

from __future__ import annotations

from typing import Any

from arclink.importers.azure import ARM_SCOPE, Source
from arclink.importers.errors import ImportFailure


def _identity() -> Any:
    try:
        import azure.identity
    except ImportError:
        raise ImportFailure("reading Azure needs azure-identity: pip install 'arclink[import]'.") from None
    return azure.identity


def emulator_source(endpoints_path: str, **what: Any) -> Source:
    """The emulator of ``endpoints.json``: its ARM address, CA and default service principal."""
    from arclink.endpoints import EndpointsError, missing_principal, read_endpoints
    from arclink.net import is_loopback

    try:
        ep = read_endpoints(endpoints_path)
    except EndpointsError as exc:
        raise ImportFailure(str(exc)) from None
    from urllib.parse import urlsplit

    missing = missing_principal(ep)
    if missing:
        raise ImportFailure(f"{endpoints_path} names no service principal ({', '.join(missing)} missing); restart "
                            "'arclink serve' with this version to write them.")
    for key in ("arm", "authority"):
        if not is_loopback(urlsplit(ep[key]).hostname):
            raise ImportFailure(f"the emulator address {ep[key]} is not on loopback; arclink only talks to a local "
                                "emulator.")
    identity = _identity()
    from azure.core.pipeline.transport import RequestsTransport

    from arclink.importers.azure import _session

    cred = identity.ClientSecretCredential(
        ep["tenant"], ep["client_id"], ep["client_secret"], authority=ep["authority"],
        disable_instance_discovery=True, connection_verify=ep["ca_cert"],
        transport=RequestsTransport(session=_session(False, 2), session_owner=True, connection_verify=ep["ca_cert"]))
    return Source(arm=ep["arm"], credential=cred, scope=ARM_SCOPE, ca_cert=ep["ca_cert"], control_api=True,
                  trust_env=False, **what)


def azure_source(arm_endpoint: str | None = None, authority: str | None = None, ca_cert: str | None = None,
                 **what: Any) -> Source:
    """Real Azure (or another cloud): az login, environment service principal or managed identity."""
    identity = _identity()
    arm = (arm_endpoint or "https://management.azure.com").rstrip("/")
    kwargs: dict[str, Any] = {}
    if authority:
        kwargs["authority"] = authority
    if ca_cert:
        kwargs["connection_verify"] = ca_cert
    cred = identity.DefaultAzureCredential(**kwargs)
    scope = ARM_SCOPE if arm_endpoint is None else f"{arm}/.default"
    return Source(arm=arm, credential=cred, scope=scope, ca_cert=ca_cert, **what)
