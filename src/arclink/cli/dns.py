"""``arclink dns serve FILE``: the split-horizon DNS server alone, for a topology file.

It answers as each client's DNS chain would (view by EDNS Client Subnet from loopback,
else by source address) until SIGINT or SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import threading

from arclink.cli.main import UserError


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve DNS for a topology file on UDP and TCP",
                           description="Serve split-horizon DNS for a topology file on one UDP+TCP port. "
                                       "Try: dig @127.0.0.1 -p PORT gbl.his.arc.azure.com +subnet=ADDR/32")
    serve.add_argument("file", metavar="FILE", help="topology file (YAML or JSON)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port for UDP and TCP (default 0: a free one)")
    serve.add_argument("--watch", action="store_true",
                       help="reload the file when it changes; the next answer uses it (a broken file is reported "
                            "and the last good one kept)")


def run(args) -> int:
    from arclink.cli._topology import Unusable, load_index, report_unusable

    if not 0 <= args.port <= 65535:
        raise UserError(f"--port {args.port} is not a port number; use 0-65535 (0 picks a free one).", 2)
    # The watcher's baseline is taken before the file is read, so a change made while loading, or
    # right after the readiness line, is a change the first poll sees.
    watcher = _Watcher(args.file) if args.watch else None
    try:
        index = load_index(args.file)
    except Unusable as exc:
        return report_unusable(exc)

    from arclink.dns.server import start_dns_server
    from arclink.model.catalogue import DISCOVERY_NAME
    from arclink.model.live import LiveState

    live = LiveState(index)
    try:
        server = start_dns_server(live, host=args.host, port=args.port)
    except ValueError:
        raise UserError(f"--host {args.host} is not a loopback address; the DNS server listens on loopback only "
                        "(use 127.0.0.1 or ::1).", 2) from None
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host} port {args.port} ({exc.strerror or exc}); "
                        "pick another with --port, or --port 0 for a free one.", 2) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"arclink dns: serving {args.file} on {server.host} port {server.port} (UDP and TCP); "
          f"try: dig @{server.host} -p {server.port} {DISCOVERY_NAME} +subnet=ADDRESS/32", flush=True)
    try:
        while not stop.wait(0.5):
            if watcher is not None:
                watcher.poll(live)
    finally:
        server.close()
    print("arclink dns: stopped", file=sys.stderr, flush=True)
    return 0


class _Watcher:
    """Publishes the file's new index when it changes.

    The baseline (inode, mtime, size and a hash of the bytes) is taken when the watcher is made,
    before the first load. A change is seen when the stat differs, or, while the file's mtime is
    within the filesystem's timestamp granularity of now, when the bytes differ (a rewrite of the
    same size in the same clock tick keeps the stat). A file that does not parse (a half-written
    one, say) is reported and retried at its next change; the last good topology keeps serving.
    """

    FRESH_NS = 2_000_000_000  # mtimes this close to now may hide a second write in the same tick

    def __init__(self, path: str):
        self.path = path
        self.stamp = self._stat()
        self.digest = self._digest()

    def _stat(self):
        import os

        try:
            st = os.stat(self.path)
            return (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            return None

    def _digest(self) -> str | None:
        import hashlib

        try:
            with open(self.path, "rb") as fh:
                return hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            return None

    def changed(self) -> bool:
        """Has the file changed since the last look (a load, good or bad)?"""
        import time

        stamp = self._stat()
        if stamp is None:
            return False  # gone for a moment (an editor's rename): keep serving, look again later
        fresh = time.time_ns() - stamp[1] < self.FRESH_NS
        if stamp == self.stamp and not fresh:
            return False
        digest = self._digest()
        self.stamp = stamp
        if digest is None or digest == self.digest:
            return False
        self.digest = digest
        return True

    def poll(self, live) -> None:
        from arclink.cli._topology import Unusable, load_index

        if not self.changed():
            return
        try:
            index = load_index(self.path)
        except Unusable as exc:
            print(f"arclink dns: not reloaded, still serving the last good topology: {exc}", file=sys.stderr, flush=True)
            return
        version = live.publish(index)
        print(f"arclink dns: reloaded {self.path} (version {version})", flush=True)
