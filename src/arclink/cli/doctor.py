"""``arclink doctor``: the seed's troubleshooting checks, like ``azcmagent check --enable-pls-check``.

Real network by default (the system resolver or ``--dns-server``); ``--emulator
endpoints.json --site SITE`` runs the same checks through the emulator, as that site.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from arclink.cli.main import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-l", "--location", help="Azure region whose regional Arc names are checked (e.g. westeurope); "
                                             "in emulator mode defaults to the site's clusters' region")
    p.add_argument("--cloud", default="AzureCloud", help="AzureCloud (the only one implemented)")
    p.add_argument("-p", "--enable-pls-check", action="store_true",
                   help="require the Arc names to resolve to private addresses (use it when the cluster connects "
                        "through an Azure Arc Private Link Scope)")
    p.add_argument("--dns-server", metavar="IP[:PORT]", action="append",
                   help="ask this DNS server instead of the system resolver (repeatable: asked in order, the next "
                        "one when one does not answer)")
    p.add_argument("--vnet-cidr", action="append", default=[], metavar="CIDR",
                   help="the private endpoint's virtual network; private answers must fall inside (repeatable)")
    p.add_argument("--timeout", type=float, default=2.0, metavar="SECONDS", help="per-check timeout (default 2)")
    p.add_argument("--port", type=int, default=443, help=argparse.SUPPRESS)  # dial another port (tests, port maps)
    p.add_argument("--loopback-only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--ca-cert", metavar="PEM", help="also trust this CA for the TLS checks (network mode)")
    p.add_argument("--explain", action="store_true", help="add a plain-words diagnosis of what is wrong and the fix")
    p.add_argument("-j", "--json", action="store_true", help="print the report as JSON (docs/doctor.md)")
    p.add_argument("--output", choices=("table", "json"), default=None, help="same as --json when 'json'")
    p.add_argument("--emulator", metavar="ENDPOINTS_JSON", help="check through the emulator (arclink serve)")
    p.add_argument("--site", help="with --emulator: the modelled site to check from")
    p.add_argument("--topology", metavar="FILE", help=argparse.SUPPRESS)  # the model, when the emulator's is not fetched


def _vnet_cidrs(values: list[str]) -> list:
    out = []
    for v in values:
        for part in filter(None, (x.strip() for x in v.split(","))):
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise UserError(f"--vnet-cidr '{part}' is not a CIDR prefix; give one like 10.10.0.0/16.") from None
    return out


def _emulator_index(args, endpoints_path: str):
    if args.topology:
        from arclink.cli._topology import Unusable, load_index

        try:
            return load_index(args.topology)
        except Unusable as exc:
            raise UserError(str(exc)) from None
    from arclink.cli.emulator_client import fetch_index

    try:
        return fetch_index(endpoints_path)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - the emulator not answering is one line, exit 2
        raise UserError(f"cannot fetch the emulator's state ({exc}); is 'arclink serve' running?") from None


def build_config(args):
    from arclink.doctor import Config, Emulator
    from arclink.doctor.probes import parse_server

    if args.site and not args.emulator:
        raise UserError("--site needs --emulator endpoints.json (sites exist only in the emulator's model).")
    if args.topology and not args.emulator:  # else the checks would go to the real network
        raise UserError("--topology needs --emulator endpoints.json and --site SITE (the model is the emulator's).")
    cfg = Config(location=args.location, cloud=args.cloud, enable_pls_check=args.enable_pls_check,
                 vnet_cidrs=_vnet_cidrs(args.vnet_cidr), timeout=args.timeout, explain=args.explain,
                 connect_port=args.port, cafile=args.ca_cert,
                 loopback_only=args.loopback_only or os.environ.get("ARCLINK_DOCTOR_LOOPBACK_ONLY") == "1")
    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port} is not a TCP port.")
    if args.ca_cert and not os.path.isfile(args.ca_cert):
        raise UserError(f"--ca-cert {args.ca_cert}: no such file; give a PEM file with the CA certificate.")
    if args.dns_server:
        if args.emulator:
            raise UserError("--dns-server and --emulator exclude each other: the emulator has its own DNS server.")
        for value in args.dns_server:
            try:
                cfg.dns_servers.append(parse_server(value))
            except (ValueError, OSError):
                raise UserError(f"--dns-server '{value}' is not IP or IP:PORT; give one like 10.0.0.4 or "
                                "127.0.0.1:5353.") from None
    if args.emulator:
        if not args.site:
            raise UserError("--emulator needs --site SITE: the modelled site whose view is checked.")
        from arclink.cli.emulator_client import read_endpoints

        endpoints = read_endpoints(args.emulator)
        cfg.emulator = Emulator(endpoints, _emulator_index(args, args.emulator), args.site)
    return cfg


def run(args) -> int:
    from arclink.doctor import DoctorError
    from arclink.doctor import run as run_doctor
    from arclink.doctor.render import print_table, to_json

    as_json = args.json or args.output == "json"
    cfg = build_config(args)
    try:
        with _progress() as progress:
            report = run_doctor(cfg, progress=progress)
    except DoctorError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        sys.stdout.write(to_json(report) + "\n")
    else:
        from rich.console import Console

        print_table(report, Console())
    return report.exit_code


class _progress:
    """A rich progress bar on stderr while checks run, only when stderr is a terminal."""

    def __enter__(self):
        self._bar = None
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(),
                             console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task("checks", total=None)
        return self._update

    def _update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
        return False
