"""``arclink serve``: the ARM emulator over HTTPS, the DNS server and the private-endpoint gateway.

State directory (default ``./.arclink``): ``endpoints.json``, ``ca.pem``/``ca-key.pem``,
``arm-server.pem``, and unless ``--in-memory`` the database ``arm.db``. The start-up itself is
``arclink.stack.start_services``, shared with the demo, the fleet and the tests.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import signal
import threading

from arclink.limits import Limits
from arclink.stack import start_services

DEFAULT_STATE_DIR = ".arclink"


def add_arguments(parser) -> None:
    parser.add_argument("--state", default=DEFAULT_STATE_DIR, metavar="DIR",
                        help="state directory: endpoints.json, CA, database (default ./.arclink)")
    parser.add_argument("--in-memory", action="store_true", help="keep resources in memory only (nothing on disk but "
                                                                 "the CA and endpoints.json)")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (loopback only; default 127.0.0.1)")
    parser.add_argument("--arm-port", type=int, default=0, metavar="N", help="ARM HTTPS port (0 picks a free one)")
    parser.add_argument("--dns-port", type=int, default=0, metavar="N", help="DNS port (0 picks a free one)")
    parser.add_argument("--gateway-port", type=int, default=0, metavar="N", help="gateway port (0 picks a free one)")
    parser.add_argument("--topology", metavar="FILE", help="seed the emulator from a topology file (YAML or JSON)")
    parser.add_argument("--api-version-check", choices=("strict", "lenient", "off"), default=None,
                        help="api-version policy (default strict; env ARCLINK_API_VERSION_CHECK)")
    parser.add_argument("--reset", action="store_true",
                        help="start afresh: delete the stored resources, token and subscription first")
    parser.add_argument("--subscription", metavar="ID", help="the subscription id a fresh state starts with (az "
                                                           "accepts only subscriptions it listed at login)")
    parser.add_argument("--tenant", metavar="ID", help="the tenant id a fresh state starts with")
    limits = parser.add_argument_group("listener limits (docs/security.md)")
    for f in dataclasses.fields(Limits):
        limits.add_argument(f"--{f.name.replace('_', '-')}", type=float if f.type == "float" else int, default=None,
                            metavar="S" if f.type == "float" else "N",
                            help=f"{_LIMIT_HELP[f.name]} (default {f.default:g})")


_LIMIT_HELP = {
    "max_connections": "open connections to ARM, and to DNS over TCP, each",
    "max_connections_per_source": "open connections from one address to ARM, and to DNS over TCP",
    "gateway_max_connections": "open connections to the gateway",
    "gateway_max_connections_per_source": "open connections to the gateway from one address",
    "handshake_timeout": "seconds from accept to an established TLS session (and the gateway's PROXY header)",
    "header_timeout": "seconds from a request's first byte to its end (an HTTP request, a DNS message)",
    "idle_timeout": "seconds a kept-alive ARM or DNS connection may idle between requests",
    "gateway_idle_timeout": "seconds an admitted agent may stay silent",
    "max_header_bytes": "bytes of an HTTP request line and headers",
    "max_headers": "headers in one HTTP request",
    "fd_reserve": "file descriptors kept free: a listener refuses connections beyond",
}


def limits_of(args) -> Limits:
    """The defaults, changed by whichever limit flags were given."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Limits) if getattr(args, f.name, None) is not None}
    return Limits(**given)


class _Stopped(BaseException):
    """SIGTERM or SIGINT arrived while the emulator was starting (a BaseException: no ``except Exception`` eats it)."""


def _stop_now(signum: int, _frame: object) -> None:
    raise _Stopped(signum)


def run(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stop = threading.Event()
    # While starting (seeding a large topology can take a while) a signal stops at once: the
    # exception unwinds the start-up, which closes what it opened. Once serving, it sets ``stop``.
    previous = {sig: signal.signal(sig, _stop_now) for sig in (signal.SIGINT, signal.SIGTERM)}
    services = None
    try:
        services = start_services(args.state, in_memory=args.in_memory, host=args.host, arm_port=args.arm_port,
                                  dns_port=args.dns_port, gateway_port=args.gateway_port, topology=args.topology,
                                  api_version_check=args.api_version_check, reset=args.reset,
                                  limits=limits_of(args), subscription=args.subscription, tenant=args.tenant)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    except _Stopped as exc:
        if services is not None:
            services.stop()
        return 128 + int(exc.args[0])
    except BaseException:
        for sig, handler in previous.items():  # a failed start leaves the caller's handlers as they were
            signal.signal(sig, handler)
        raise
    # what start-up made (catalogue, store, tables) lives as long as the process: keep the collector's
    # full passes, which traffic's allocations trigger, from walking it again and again
    gc.freeze()
    e = services.endpoints
    dns = f"{e['dns']['host']}:{e['dns']['port']}" if e["dns"] else "off"
    gw = f"{e['gateway']['host']}:{e['gateway']['port']}" if e["gateway"] else "off"
    print(f"arclink serve: ARM {e['arm']}  DNS {dns}  gateway {gw}  state {services.state_dir}"
          f"{' (in memory)' if args.in_memory else ''}  endpoints {services.state_dir / 'endpoints.json'}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        services.stop()
    return 0
