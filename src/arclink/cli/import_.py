"""``arclink import azure|graph|dns``: read the deployment people really have into a topology file.

``azure`` reads ARM (real Azure through ``DefaultAzureCredential``, or the emulator through its
service principal: one code path), ``graph`` the JSON of an Azure Resource Graph query, ``dns`` an
on-premises DNS server's configuration into one site of a topology.
"""

from __future__ import annotations

import sys

from arclink.cli.main import UserError


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="source", required=True, metavar="azure|graph|dns")
    az = sub.add_parser("azure", help="read every resource the model holds through ARM")
    az.add_argument("-o", "--output", metavar="FILE", help="write the topology here (YAML, or JSON for *.json); "
                                                           "default standard output")
    az.add_argument("--subscription", action="append", default=[], metavar="ID",
                    help="a subscription to read (repeatable; default: every one the credential sees)")
    az.add_argument("--resource-group", action="append", default=[], metavar="RG",
                    help="read only this resource group (repeatable)")
    az.add_argument("--sites", metavar="FILE", help="a topology file whose sites and dnsForwarders to merge in")
    az.add_argument("--emulator", metavar="ENDPOINTS_JSON", help="read arclink's emulator (its endpoints.json)")
    az.add_argument("--arm-endpoint", metavar="URL", help="ARM of another cloud (default https://management.azure.com)")
    az.add_argument("--authority", metavar="URL", help="the Entra ID authority of another cloud")
    az.add_argument("--ca-cert", metavar="PEM", help="trust this CA for ARM and the authority")
    az.add_argument("--workers", type=int, default=8, metavar="N", help="reads in flight at once (default 8)")
    az.add_argument("--quiet", action="store_true", help="no progress bar or summary on standard error")

    gr = sub.add_parser("graph", help="read the JSON of an Azure Resource Graph query (see docs/import.md)")
    gr.add_argument("file", nargs="+", metavar="FILE",
                    help="the output of 'az graph query ... -o json' (several: the pages of one query, merged)")
    gr.add_argument("-o", "--output", metavar="FILE", help="write the topology here (default standard output)")
    gr.add_argument("--sites", metavar="FILE", help="a topology file whose sites and dnsForwarders to merge in")

    dn = sub.add_parser("dns", help="read an on-premises DNS server's configuration into a site")
    dn.add_argument("config", metavar="CONFIG", help="the server's main configuration file (Windows: the JSON export)")
    dn.add_argument("--site", required=True, metavar="SITE", help="the site whose DNS server this is")
    from arclink.importers.dns import ENGINES

    dn.add_argument("--engine", required=True, choices=ENGINES)
    dn.add_argument("--view", metavar="NAME", help="BIND: the view to read (default the first)")
    dn.add_argument("--into", metavar="FILE", help="the topology to update (the site is added or its dns replaced); "
                                                  "without it the site's dns is printed")
    dn.add_argument("-o", "--output", metavar="FILE", help="write here instead of over --into / standard output")


def run(args) -> int:
    from arclink.importers.errors import ImportFailure

    try:
        if args.source == "azure":
            return _azure(args)
        if args.source == "graph":
            return _graph(args)
        return _dns(args)
    except ImportFailure as exc:
        raise UserError(exc.message, exc.code) from None


def api_versions() -> dict[str, str]:
    """The plan's api-versions (one table for what arclink writes and reads back)."""
    from arclink.export.plan import API_VERSIONS

    return dict(API_VERSIONS)


def write_topology(topo, output: str | None) -> None:
    from arclink.importers.output import dumps

    text = dumps(topo, "json" if (output or "").endswith(".json") else "yaml")
    if not output:
        sys.stdout.write(text)
        return
    from pathlib import Path

    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}.", 2) from None


def onprem_of_file(path: str | None) -> dict:
    if not path:
        return {}
    from arclink.cli._topology import Unusable, load_index

    try:
        ix = load_index(path)
    except Unusable as exc:
        raise UserError(str(exc), 2) from None
    import msgspec

    return {"sites": [msgspec.to_builtins(s) for s in ix.topology.sites],
            "dnsForwarders": [msgspec.to_builtins(f) for f in ix.topology.dns_forwarders]}


def live_source(args):
    """The ``importers.azure.Source`` the flags name."""
    from arclink.importers import credentials

    what = {"subscriptions": list(getattr(args, "subscription", []) or []),
            "resource_groups": list(getattr(args, "resource_group", []) or []),
            "workers": max(1, getattr(args, "workers", 8) or 8)}
    if args.emulator:
        return credentials.emulator_source(args.emulator, **what)
    return credentials.azure_source(getattr(args, "arm_endpoint", None), getattr(args, "authority", None),
                                    getattr(args, "ca_cert", None), **what)


def read_live(source, *, quiet: bool = True, sites: str | None = None):
    """(tidy topology, importers.azure.Result) of a live source."""
    from arclink.importers import azure
    from arclink.importers.convert import to_topology

    progress = None if quiet or not sys.stderr.isatty() else _progress_bar()
    try:
        result = azure.read(source, api_versions(), progress=progress.update if progress else None)
    finally:
        if progress:
            progress.close()
    onprem = result.onprem
    if sites:
        onprem = {**onprem, **onprem_of_file(sites)}
    return to_topology(result.resources, onprem), result


def _azure(args) -> int:
    topo, result = read_live(live_source(args), quiet=args.quiet, sites=args.sites)
    write_topology(topo, args.output)
    if not args.quiet:
        print(summary(result), file=sys.stderr)
    return 0


def summary(result) -> str:
    read = sum(result.counts.values())
    line = (f"read {read} resources of {len(result.counts)} types in {result.requests} requests "
            f"({result.throttled} throttled and retried; one GET per resource would take {result.per_resource_gets})")
    if result.unknown:
        line += "; not in the model: " + ", ".join(f"{n} {t}" for t, n in sorted(result.unknown.items()))
    return line


def _graph(args) -> int:
    from arclink.importers.convert import to_topology
    from arclink.importers.graph import read_graph

    resources = read_graph(*args.file)
    write_topology(to_topology(resources, onprem_of_file(args.sites)), args.output)
    return 0


def _dns(args) -> int:
    from arclink.importers.dns import read_config
    from arclink.importers.output import merge_site_dns, site_dns_text

    dns, notes = read_config(args.engine, args.config, args.view)
    for n in notes:
        print(f"arclink import dns: {n}", file=sys.stderr)
    if not args.into:
        out = site_dns_text(args.site, dns)
        if args.output:
            from pathlib import Path

            Path(args.output).write_text(out, encoding="utf-8")
        else:
            sys.stdout.write(out)
        return 0
    from arclink.cli._topology import Unusable, load_index

    try:
        ix = load_index(args.into)
    except Unusable as exc:
        raise UserError(str(exc), 2) from None
    write_topology(merge_site_dns(ix.topology, args.site, dns), args.output or args.into)
    return 0


class _progress_bar:
    """A rich progress bar on standard error while reads are under way."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn("reading ARM"), BarColumn(), MofNCompleteColumn(),
                            console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task("read", total=None)
        self.bar.start()

    def update(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=max(total, done))

    def close(self) -> None:
        self.bar.stop()
