"""On-premises DNS servers, from their own configuration: one reader per engine, one ``Found`` for all."""

from __future__ import annotations

from arclink.model import schema

ENGINES = ("bind", "unbound", "dnsmasq", "coredns", "windows")


def read_config(engine: str, path: str, view: str | None = None) -> tuple[schema.SiteDns, list[str]]:
    """The site's DNS server as ``engine``'s configuration at ``path`` describes it, and the notes
    (file:line: what was read but is not in the site model)."""
    if engine == "bind":
        from arclink.importers.dns import bind

        found = bind.read(path, view)
    elif engine == "unbound":
        from arclink.importers.dns import unbound

        found = unbound.read(path)
    elif engine == "dnsmasq":
        from arclink.importers.dns import dnsmasq

        found = dnsmasq.read(path)
    elif engine == "coredns":
        from arclink.importers.dns import coredns

        found = coredns.read(path)
    elif engine == "windows":
        from arclink.importers.dns import windows

        found = windows.read(path)
    else:
        raise ValueError(f"unknown engine {engine}")
    return found.site_dns(), found.notes
