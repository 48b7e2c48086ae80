"""The api-version policy: strict (the versions each route serves), lenient (any well-formed one), or off."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import NoReturn

from arclink.arm import types
from arclink.arm.config import ArmConfig
from arclink.arm.errors import ArmError, bad_request
from arclink.arm.routes import Route

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-(preview|alpha|beta|rc|privatepreview))?$")


class VersionPolicy:
    def __init__(self, config: ArmConfig) -> None:
        self.config = config  # read on every request: the mode is the config's

    def _strict(self, v: str | None, listed: Collection[str]) -> bool:
        """Refuse a missing or malformed api-version (unless checks are off); True when ``v`` must
        also be one of the versions the route serves."""
        mode = self.config.api_version_check
        if mode == "off":
            return False
        if not v:
            raise bad_request("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is "
                                                            "required for all requests.")
        if not _VERSION.fullmatch(v):
            raise bad_request("InvalidApiVersionParameter", f"The api-version '{v}' is invalid. The supported versions "
                                                            f"are '{','.join(sorted(listed, reverse=True))}'.")
        return mode == "strict"

    def provider(self, v: str | None, allowed: Collection[str] | None = None) -> None:
        """A provider-level route; ``allowed`` None takes any well-formed version."""
        if self._strict(v, allowed or types.RESOURCES_VERSIONS) and allowed is not None and v not in allowed:
            raise bad_request("InvalidApiVersionParameter", f"The api-version '{v}' is invalid. The supported versions "
                                                            f"are '{','.join(sorted(allowed, reverse=True))}'.")

    def of_type(self, v: str | None, rtype: types.RType, location: str | None = None) -> None:
        if self._strict(v, rtype.versions) and v not in rtype.versions:
            short = rtype.type.split("/", 1)[1]
            raise bad_request("NoRegisteredProviderFound",
                              f"No registered resource provider found for location '{location or 'global'}' and API "
                              f"version '{v}' for type '{short}'. The supported api-versions are "
                              f"'{', '.join(sorted(rtype.versions, reverse=True))}'. The supported locations are "
                              "'westeurope, northeurope, eastus, eastus2, westus2, westus3, southeastasia, ...'.")

    def served_type(self, route: Route, v: str | None, ns_display: str) -> types.RType:
        """The type ``route`` names, checked against ``v``; an ARM 404 if it is not served."""
        rtype = types.lookup(route.type_key)
        if rtype is None:
            self.unknown_type(v, route, ns_display)
        self.of_type(v, rtype)
        return rtype

    def unknown_type(self, v: str | None, route: Route, ns: str) -> NoReturn:
        if self.config.api_version_check != "off" and not v:
            raise bad_request("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is "
                                                            "required for all requests.")
        ns_low = route.type_key.split("/")[0]
        if ns_low not in types.NAMESPACES:
            raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{ns or ns_low}' is invalid. This "
                                                            f"emulator serves {', '.join(types.NAMESPACES.values())}.")
        short = route.type_key.split("/", 1)[1] if "/" in route.type_key else route.type_key
        supported = sorted({x for t in types.namespace_types(ns_low) for x in t.versions}, reverse=True)
        raise ArmError(404, "InvalidResourceType", f"The resource type '{short}' could not be found in the namespace "
                                                   f"'{types.NAMESPACES[ns_low]}' for api version '{v}'. The supported "
                                                   f"api-versions are '{','.join(supported[:12])}'.")
