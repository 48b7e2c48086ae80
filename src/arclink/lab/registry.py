"""MCR behind Azure Front Door, as the lab's internet serves it: HTTPS on the public MCR addresses.

Enough of the registry API for the page's checks and a client's first call: ``GET /v2/``
answers 200 with ``Docker-Distribution-Api-Version: registry/2.0`` (what ``docker login`` and
``curl -v https://mcr.microsoft.com/v2/`` expect); a repository the lab does not hold answers
the registry's 404 ``NAME_UNKNOWN``. Every answer carries the ``X-Azure-Ref`` header Front Door
adds. The certificate names the MCR names and is signed by the emulator's CA. The addresses are
the catalogue's (service tags MicrosoftContainerRegistry and AzureFrontDoor.FirstParty), so a
site's firewall without those tags drops the packets before they get here.
"""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
import uuid
from pathlib import Path

from arclink import pki

HANDSHAKE_TIMEOUT = 10.0


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "arclink-lab-mcr"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name; quiet by design
        pass

    def _answer(self, status: int, doc: dict, body: bool = True) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.send_header("X-Azure-Ref", uuid.uuid4().hex)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _route(self, body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/v2", "/v2/"):
            self._answer(200, {}, body)
        else:
            self._answer(404, {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry",
                                           "detail": {"path": path}}]}, body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._route(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._route(False)


class _TlsServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server on a socket bound elsewhere (in the lab's internet namespace); the TLS
    handshake runs in the connection's thread, so a silent client holds up no one."""

    daemon_threads = True

    def __init__(self, sock: socket.socket, ctx: ssl.SSLContext):
        super().__init__(sock.getsockname(), _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket, self.ctx = sock, ctx

    def finish_request(self, request, client_address) -> None:
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()


class Registry:
    """The registry's servers, one per listening socket; ``close()`` stops them."""

    def __init__(self, servers: list[_TlsServer], threads: list[threading.Thread]):
        self.servers, self.threads = servers, threads

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()
        for t in self.threads:
            t.join(5)


def start_registry(socks: tuple[socket.socket, ...], names: tuple[str, ...], state_dir: str | Path) -> Registry:
    """Serve MCR on ``socks`` (listening TCP sockets) with a certificate for ``names`` from the state's CA."""
    ca = pki.ensure_ca(state_dir)
    cert, key = pki.write_leaf(state_dir, "mcr-server", *pki.issue_server_cert(ca, list(names)))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    servers, threads = [], []
    for sock in socks:
        server = _TlsServer(sock, ctx)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                  name=f"lab-mcr-{sock.getsockname()[0]}", daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
    return Registry(servers, threads)
