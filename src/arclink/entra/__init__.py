"""Entra ID (Azure AD) token service on the emulator's HTTPS port: the client-credentials grant,
OIDC discovery, JWKS and ARM's cloud metadata, so ``az login --service-principal`` and the SDKs'
``ClientSecretCredential`` / ``CertificateCredential`` work against ``arclink serve``.

``open_service(state_dir, tenant, in_memory=...)`` builds an ``EntraService``; ``with_entra(arm_app,
service)`` puts it in front of ARM. Tokens are issued and checked by ``arclink.tokens``; service
principals live in ``arclink.principals``.
"""

from __future__ import annotations

from pathlib import Path

from arclink import tokens
from arclink.entra.app import EntraService, with_entra
from arclink.principals import open_registry

__all__ = ["EntraService", "open_service", "with_entra"]


def open_service(state_dir: str | Path, tenant: str, *, in_memory: bool = False) -> EntraService:
    """The tenant's token service over the state directory's signing key and principals."""
    return EntraService(tenant, open_registry(state_dir, in_memory=in_memory), tokens.load_signing_key(state_dir))
