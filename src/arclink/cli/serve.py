"""``arclink serve``: the ARM emulator over HTTPS, the DNS server and the private-endpoint gateway.

State directory (default ``./.arclink``): ``endpoints.json``, ``ca.pem``/``ca-key.pem``,
``arm-server.pem``, and unless ``--in-memory`` the database ``arm.db``. The start-up itself is
``arclink.stack.start_services``, shared with the demo, the fleet and the tests.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading

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


def run(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    services = start_services(args.state, in_memory=args.in_memory, host=args.host, arm_port=args.arm_port,
                              dns_port=args.dns_port, gateway_port=args.gateway_port, topology=args.topology,
                              api_version_check=args.api_version_check, reset=args.reset)
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
