"""The DNS process ``arclink serve`` starts: ``python -m arclink.dns.child`` (see ``dns.process``).

It is given, as inherited descriptors, its UDP and TCP sockets (bound and listening already),
its link to the emulator and the emulator's shared count of names writes. It answers with the
same server as ever (``dns.server``) from a ``FeedState``, and stops when the link closes: when
the emulator stops it, or dies.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys

from arclink.dns.feed import FeedState, Link, LinkClosed
from arclink.dns.server import start_dns_server
from arclink.limits import Limits
from arclink.sharedcounter import SharedCounter


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m arclink.dns.child")
    for name in ("udp", "tcp", "link", "counter"):
        ap.add_argument(f"--{name}", type=int, required=True, help="an inherited descriptor")
    ap.add_argument("--limits", default="{}", help="arclink.limits.Limits' fields, as JSON")
    args = ap.parse_args(argv)
    # Ctrl-C in a terminal reaches the whole process group: the emulator stops us through the link
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="arclink dns: %(message)s")
    link = Link(socket.socket(fileno=args.link))
    try:
        udp, tcp = socket.socket(fileno=args.udp), socket.socket(fileno=args.tcp)
        from arclink.model.arm_codec import index_from_resources

        state = FeedState(link, SharedCounter(args.counter), index_from_resources)
        server = start_dns_server(state, sockets=(udp, tcp), limits=Limits(**json.loads(args.limits)))
    except LinkClosed:
        return 0  # stopped before it started
    except Exception as exc:  # told to the emulator, which says it to the user
        try:
            link.send({"kind": "failed", "error": f"{type(exc).__name__}: {exc}"})
        except LinkClosed:
            pass
        return 1
    try:
        link.send({"kind": "ready"})
    except LinkClosed:  # stopped as it started
        state.closed.set()
    state.closed.wait()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
