"""Exporters: from a topology's ordered plan to what people deploy.

``render(kind, index, ...)`` gives one format's files as ``{relative path: text}``;
``write(files, out_dir)`` writes them and returns their paths. Azure formats (azcli, arm,
bicep, terraform) render ``plan.build_plan``; ``nsg`` the seed's rules; the on-premises DNS
formats render ``onprem.site_dns`` per site (one directory per site, ``DIR/<site>/``, unless
a single site is exported, then ``DIR`` itself); ``firewall`` the Service Tags file.
"""

from __future__ import annotations

from pathlib import Path

AZURE_KINDS = ("azcli", "arm", "bicep", "terraform")
DNS_KINDS = ("bind", "unbound", "dnsmasq", "coredns", "windows", "hosts")
KINDS = AZURE_KINDS + ("nsg",) + DNS_KINDS + ("firewall",)


def render(kind: str, index, *, design: str = "auto", site: str | None = None, service_tags: str | None = None,
           dns_options=None) -> dict[str, str]:
    """``{relative path: text}`` for one kind; raises ``onprem.ExportError`` / ``firewall.ServiceTagsError``."""
    if kind in AZURE_KINDS:
        import importlib

        from arclink.export.plan import build_plan

        module = importlib.import_module(f"arclink.export.{kind}")
        return module.render(build_plan(index))
    if kind == "nsg":
        from arclink.export import nsg

        return nsg.render()
    if kind == "firewall":
        from arclink.export import firewall
        from arclink.export.onprem import ExportError

        if not service_tags:
            raise ExportError("firewall needs --service-tags FILE: the Service Tags JSON download "
                              "(Azure IP Ranges and Service Tags).")
        return firewall.render(firewall.load_service_tags(service_tags))
    if kind in DNS_KINDS:
        from dataclasses import replace

        from arclink.export import dnsconf, onprem

        opts = dns_options or onprem.Options(design=design)
        if kind == "hosts":  # a hosts file can only hold records
            opts = replace(opts, design="manual")
        sites = onprem.sites_for(index, site)
        files: dict[str, str] = {}
        for s in sites:
            prefix = "" if len(sites) == 1 else f"{s.name}/"
            site_opts = replace(opts, workdir=f"{opts.workdir}/{s.name}") if opts.workdir and prefix else opts
            d = onprem.site_dns(index, s, site_opts)
            for name, text in dnsconf.RENDERERS[kind](d, site_opts).items():
                files[prefix + name] = text
        return files
    raise ValueError(f"unknown export kind '{kind}'")


def write(files: dict[str, str], out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    written = []
    for rel, text in files.items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8", newline="")
        if rel.endswith(".sh"):
            p.chmod(0o755)
        written.append(p)
    return written
