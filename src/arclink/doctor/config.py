"""What the doctor is asked to do: its options, the emulator it checks, and their validation.

``runner.run`` takes a ``Config``; the CLI builds one from its flags. Every refusal here is
a ``DoctorError``: one sentence and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arclink.endpoints import is_loopback
from arclink.model import catalogue as cat
from arclink.model.index import Index, SiteR

RUN_DEADLINE = 9.0  # seconds: the whole run stays under 10 s even when everything times out


class DoctorError(Exception):
    """The doctor could not run (bad option, unreadable input): one sentence and the fix."""


@dataclass
class Emulator:
    """The emulator as the doctor sees it: endpoints.json, the model, and the site asking."""

    endpoints: dict[str, Any]
    index: Index
    site: str

    def site_r(self) -> SiteR:
        s = self.index.site(self.site)
        if s is None:
            names = ", ".join(sorted(x.name for x in self.index.sites.values())) or "none"
            raise DoctorError(f"unknown site '{self.site}'; the emulator's sites are: {names}.")
        return s

    def address(self) -> str:
        """A modelled address of the site: its first cluster's node, else one inside its network."""
        s = self.site_r()
        for c in self.index.clusters_in(s):
            if c.address:
                return c.address
        if not s.networks:
            raise DoctorError(f"site '{s.name}' has no address space; give it one in the topology.")
        return str(s.networks[0].network_address + 10)

    def location(self) -> str:
        s = self.site_r()
        # The names to check are those the scope's endpoint carries: the scope's region (index.endpoint_service_region).
        c = next(iter(self.index.clusters_in(s)), None)
        return (c.scope.location if c.scope else c.location) if c else self.index.default_location

    def hostport(self, key: str) -> tuple[str, int]:
        try:
            ep = self.endpoints[key]
            host, port = str(ep["host"]), int(ep["port"])
        except (KeyError, TypeError, ValueError):
            raise DoctorError(f"endpoints.json has no usable '{key}' entry (host and port); "
                              "start the emulator with 'arclink serve'.") from None
        if not is_loopback(host):
            raise DoctorError(f"endpoints.json names {host} for '{key}', but the emulator listens on loopback only; "
                              "give the endpoints.json that 'arclink serve' wrote.")
        return host, port


@dataclass
class Config:
    location: str | None = None
    cloud: str = "AzureCloud"
    enable_pls_check: bool = False
    # network mode: asked in order, the next one when one does not answer (as the system resolver
    # does); empty: the system resolver's nameservers
    dns_servers: list[tuple[str, int]] = field(default_factory=list)
    vnet_cidrs: list = field(default_factory=list)  # ip_network
    timeout: float = 2.0
    explain: bool = False
    connect_port: int = 443  # network mode: the port dialled for TCP/TLS checks
    loopback_only: bool = False  # refuse to dial anything but loopback (tests set it)
    cafile: str | None = None  # network mode: trust this CA besides the system store
    emulator: Emulator | None = None
    deadline: float = RUN_DEADLINE

    @property
    def mode(self) -> str:
        return "emulator" if self.emulator else "network"


SUPPORTED_CLOUDS = ("AzureCloud",)
KNOWN_CLOUDS = ("AzureCloud", "AzureUSGovernment", "AzureChinaCloud")


def validate(cfg: Config) -> None:
    if cfg.cloud not in KNOWN_CLOUDS:
        raise DoctorError(f"unknown cloud '{cfg.cloud}'; use one of {', '.join(KNOWN_CLOUDS)}.")
    if cfg.cloud not in SUPPORTED_CLOUDS:
        raise DoctorError(f"--cloud {cfg.cloud} is not implemented: the Arc private link names of that cloud are not "
                          "in the catalogue; use --cloud AzureCloud.")
    if cfg.location and not cat.known_region(cfg.location):
        raise DoctorError(f"unknown location '{cfg.location}'; give an Azure region name such as westeurope.")
    if not 0 < cfg.timeout <= 30:
        raise DoctorError(f"--timeout {cfg.timeout:g} is out of range; give seconds between 0.1 and 30.")
