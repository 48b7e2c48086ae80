"""``arclink export KIND FILE -o DIR``: write deployable configuration from a topology."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

from arclink.cli.main import UserError
from arclink.export import KINDS  # a light module (no exporter is imported until used)


def add_arguments(parser) -> None:
    parser.add_argument("kind", metavar="KIND", help="one of: " + ", ".join(KINDS))
    parser.add_argument("file", metavar="FILE", help="topology file (YAML or JSON)")
    parser.add_argument("-o", "--output-dir", dest="out", metavar="DIR", required=True, help="directory to write into")
    parser.add_argument("--design", choices=("auto", "forwarder", "manual"), default="auto",
                        help="on-premises DNS: conditional forwarders to Azure or manual A records for every "
                             "private-link site; auto (default): each site as its DNS server is written (manual where "
                             "it hosts Arc names, forwarder otherwise)")
    parser.add_argument("--site", metavar="SITE", help="on-premises DNS for this site only (written directly in DIR)")
    parser.add_argument("--service-tags", metavar="FILE", help="the Service Tags JSON download (for firewall)")
    parser.add_argument("--map", action="append", default=[], metavar="IP=HOST:PORT",
                        help="DNS formats: use HOST:PORT wherever the topology says IP (repeatable), "
                             "e.g. to try a config against 'arclink serve' on loopback")
    parser.add_argument("--listen", metavar="HOST:PORT",
                        help="DNS formats: listen here instead of the site's DNS address, and keep the engine's "
                             "working files (pid, zone files) in DIR: a trial run from the output directory")
    parser.add_argument("--force", action="store_true", help="export even when lint finds errors")
    parser.add_argument("--output", choices=("text", "json"), default="text",
                        help="text: one written path a line; json: {kind, files}")


def _server(text: str, what: str):
    from arclink.export.onprem import Server

    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"{what} '{text}' is not HOST:PORT (for example 127.0.0.1:5353).", 2)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise UserError(f"{what} '{text}': '{host}' is not an IP address.", 2) from None
    return Server(host, int(port))


def _dns_options(args):
    from arclink.export.onprem import Options

    amap = {}
    for item in args.map:
        ip, sep, target = item.partition("=")
        if not sep:
            raise UserError(f"--map '{item}' is not IP=HOST:PORT.", 2)
        try:
            ipaddress.ip_address(ip.strip())
        except ValueError:
            raise UserError(f"--map '{item}': '{ip.strip()}' is not an IP address; write IP=HOST:PORT.", 2) from None
        amap[ip.strip()] = _server(target.strip(), "--map target")
    listen = _server(args.listen, "--listen") if args.listen else None
    # A trial run on loopback starts the engine from the output directory: pid files etc. go there.
    workdir = str(Path(args.out).resolve()) if listen else None
    return Options(design=args.design, listen=listen, address_map=amap, workdir=workdir)


def run(args) -> int:
    if args.kind not in KINDS:
        import difflib

        close = difflib.get_close_matches(args.kind, KINDS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UserError(f"unknown KIND '{args.kind}'.{hint} Use one of: {', '.join(KINDS)}.", 2)
    if args.kind == "firewall" and not args.service_tags:
        raise UserError("firewall needs --service-tags FILE (the Service Tags JSON download).", 2)
    from arclink.cli._topology import Unusable, lint_errors, load_index, report_unusable

    try:
        ix = load_index(args.file)
    except Unusable as exc:
        return report_unusable(exc)
    errors = lint_errors(ix, args.file, force=args.force, verb="export")
    from arclink import export
    from arclink.export.firewall import ServiceTagsError
    from arclink.export.onprem import ExportError
    from arclink.export.plan import PlanError

    try:
        files = export.render(args.kind, ix, design=args.design, site=args.site, service_tags=args.service_tags,
                              dns_options=_dns_options(args))
    except (ExportError, ServiceTagsError, PlanError) as exc:
        raise UserError(str(exc), 2) from None
    try:
        written = export.write(files, args.out)
    except OSError as exc:
        raise UserError(f"cannot write to '{args.out}': {exc.strerror}. Choose a writable directory.", 2) from None
    if args.output == "json":
        import json

        print(json.dumps({"kind": args.kind, "files": [str(p) for p in written]}, indent=2))
    else:
        for p in written:
            print(p)
    if errors:
        print(f"arclink export: exported despite {len(errors)} lint error(s) (--force).", file=sys.stderr)
    return 0
