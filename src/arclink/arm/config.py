"""The emulator's settings: its token and ids, the api-version policy, where it is served."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arclink.principals import Registry
    from arclink.tokens import SigningKey


@dataclass
class ArmConfig:
    token: str
    subscription: str
    tenant: str
    api_version_check: str = "strict"  # strict | lenient | off
    base_url: str = ""
    state_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    signing_key: SigningKey | None = None  # access tokens the token service signed are accepted too
    principals: Registry | None = None  # the service principals behind /_arclink/principals
