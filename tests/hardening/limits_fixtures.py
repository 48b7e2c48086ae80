"""Helpers for the listener-limit tests: an `arclink serve` process, clients dialled from a chosen loopback source.

Every connection goes to 127.0.0.1; a flood dials from another loopback address (127.0.0.2) so that
the per-source caps apply to it and not to the legitimate client on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

FLOOD_SOURCE = "127.0.0.2"


@contextlib.contextmanager
def serve(state: Path, *flags: str, preexec=None, env=None) -> Iterator[tuple[subprocess.Popen, dict]]:
    """`arclink serve --state state flags...` until the block ends; yields the process and its endpoints."""
    proc = subprocess.Popen([sys.executable, "-m", "arclink", "serve", "--state", str(state), "--in-memory", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=preexec,
                            env=env)
    try:
        yield proc, wait_endpoints(proc, state)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_endpoints(proc: subprocess.Popen, state: Path, within: float = 60) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            ep = json.loads((state / "endpoints.json").read_text())
            if ep.get("pid") == proc.pid:
                return ep
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError("serve did not write endpoints.json")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def arm_address(ep: dict) -> tuple[str, int]:
    host, port = ep["arm"].rsplit("//", 1)[1].rsplit(":", 1)
    return host.strip("[]"), int(port)


def dial(address: tuple[str, int], source: str = FLOOD_SOURCE) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(address)
    return s


def tls_dial(ep: dict, source: str = FLOOD_SOURCE) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=ep["ca_cert"])
    return ctx.wrap_socket(dial(arm_address(ep), source), server_hostname="localhost")


def arm_get(ep: dict, timeout: float = 10) -> int:
    """A legitimate client: GET the subscriptions from 127.0.0.1; the HTTP status."""
    import http.client

    host, port = arm_address(ep)
    conn = http.client.HTTPSConnection(host, port, timeout=timeout,
                                       context=ssl.create_default_context(cafile=ep["ca_cert"]))
    try:
        conn.request("GET", "/subscriptions?api-version=2022-12-01", headers={"Authorization": f"Bearer {ep['token']}"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def dns_rcode(ep: dict, tcp: bool, timeout: float = 10) -> int:
    """A legitimate DNS query from 127.0.0.1 over UDP or TCP; its response code."""
    import dns.message
    import dns.query

    q = dns.message.make_query("gbl.his.arc.azure.com", "A")
    ask = dns.query.tcp if tcp else dns.query.udp
    return ask(q, ep["dns"]["host"], port=ep["dns"]["port"], timeout=timeout).rcode()


def dns_tcp_dial(ep: dict, source: str = FLOOD_SOURCE) -> socket.socket:
    return dial((ep["dns"]["host"], ep["dns"]["port"]), source)


def gateway_dial(ep: dict, source: str = FLOOD_SOURCE) -> socket.socket:
    return dial((ep["gateway"]["host"], ep["gateway"]["port"]), source)


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True when the server closes (or resets) ``sock`` within ``within`` seconds; reads and drops any bytes."""
    deadline = time.monotonic() + within
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            sock.settimeout(left)
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True
    except (TimeoutError, socket.timeout):
        return False


def still_open(sock: socket.socket) -> bool:
    """The server has not closed ``sock`` (nothing to read, no EOF) at this moment."""
    if isinstance(sock, ssl.SSLSocket):  # no MSG_PEEK through TLS: a short read that times out
        return not closed_by_server(sock, within=0.1)
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except (ConnectionResetError, OSError):
        return False
    finally:
        sock.setblocking(True)


def dns_frame(query: bytes) -> bytes:
    return struct.pack("!H", len(query)) + query


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
