"""``arclink lab up|down|status|exec``: the page's network built for real in network namespaces (Linux, root).

``up`` stays in the foreground (the emulator's services live in it); Ctrl-C or SIGTERM tears
the lab down. ``exec SITE -- COMMAND`` runs a command in the site's namespace with the
site's resolv.conf, so ``nslookup``, ``dig`` and ``curl`` work as written on the page.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from arclink.cli.main import UserError

DEFAULT_NAME = "lab"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("up", help="build the lab and serve it until Ctrl-C")
    p.add_argument("topology", metavar="TOPOLOGY", help="topology file (YAML or JSON)")
    p.add_argument("--name", default=DEFAULT_NAME, help=f"lab name (default {DEFAULT_NAME})")
    p.add_argument("--dns-engine", action="append", default=[], metavar="[SITE=]ENGINE",
                   help="the sites' DNS engine: bind (default), unbound or dnsmasq; SITE=ENGINE for one site")
    p = sub.add_parser("down", help="remove every namespace, process, file and rule of the lab")
    p.add_argument("--name", default=DEFAULT_NAME)
    sub.add_parser("status", help="list labs")
    p = sub.add_parser("exec", help="run a command in a site's namespace")
    p.add_argument("--name", default=DEFAULT_NAME)
    p.add_argument("site", metavar="SITE")
    p.add_argument("command", nargs="+", metavar="COMMAND", help="the command (after --)")


def _engines(values: list[str]) -> tuple[str, dict[str, str]]:
    default, per_site = "bind", {}
    for v in values:
        site, sep, engine = v.rpartition("=")
        if sep:
            per_site[site] = engine
        else:
            default = engine
    return default, per_site


def run(args) -> int:
    from arclink.lab import runtime

    try:
        return _ACTIONS[args.action](args, runtime)
    except runtime.LabError as exc:
        raise UserError(str(exc), exc.code) from None


def _up(args, runtime) -> int:
    from arclink.cli._topology import Unusable, load_index

    def load(path):
        try:
            return load_index(path)
        except Unusable as exc:
            raise runtime.LabError(str(exc), 2) from None

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    default, per_site = _engines(args.dns_engine)
    lab = runtime.up(args.topology, args.name, default_engine=default, engines_by_site=per_site, load_index=load)
    try:
        _print_table(lab)
        print(f"arclink lab '{args.name}' is up. Try: arclink lab exec --name {args.name} "
              f"{next(iter(lab.index.sites.values())).name} -- nslookup gbl.his.arc.azure.com   (Ctrl-C tears down)",
              flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        runtime.stop_lab(lab)
        print(f"arclink lab '{args.name}' is down.", flush=True)
    return 0


def _print_table(lab) -> None:
    plan = lab.plan
    services: dict[str, list[str]] = {}
    for ln in plan.listeners:
        services.setdefault(ln.ns, []).append(f"{ln.service} {ln.address}:{ln.port}")
    for f in plan.forwarders:
        services.setdefault(f.ns, []).append(f"dnsmasq {f.address}:53 -> {f.target}")
    for sd in plan.site_dns:
        services.setdefault(sd.ns, []).append(f"{sd.engine} {sd.address}:53")
    rows = [(n.ns, ", ".join(n.addresses), "; ".join(services.get(n.ns, []))) for n in plan.nodes.values()]
    w = max(len(r[0]) for r in rows)
    print(f"{'namespace':<{w}}  addresses  |  services")
    for ns, addrs, svc in rows:
        print(f"{ns:<{w}}  {addrs}  |  {svc}")
    for link in plan.links:
        print(f"link {link.a}:{link.a_if} <-> {link.b}:{link.b_if} ({link.purpose})")


def _down(args, runtime) -> int:
    runtime.preflight()
    done = runtime.down(args.name)
    print(f"arclink lab '{args.name}': removed {len(done['namespaces'])} namespaces, "
          f"stopped {len(done['processes'])} processes.")
    return 0


def _status(args, runtime) -> int:
    labs = runtime.status()
    if not labs:
        print("no labs.")
    for lab in labs:
        print(f"{lab['name']}: {lab['state']} (pid {lab['pid']}, {lab['topology']}); "
              f"sites: {', '.join(f'{s} ({ns})' for s, ns in lab['sites'].items())}")
    return 0


def _exec(args, runtime) -> int:
    runtime.preflight()
    ns = runtime.site_namespace(args.name, args.site)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    sys.stdout.flush()
    os.execvp("ip", ["ip", "netns", "exec", ns, *command])
    return 127  # not reached


_ACTIONS = {"up": _up, "down": _down, "status": _status, "exec": _exec}
