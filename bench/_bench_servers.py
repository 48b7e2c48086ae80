"""Servers for gateway_bench.py, each in a process of its own so its RSS and CPU are its own.

    python bench/_bench_servers.py gateway TOPOLOGY.json STATE_DIR
    python bench/_bench_servers.py echo STATE_DIR
    python bench/_bench_servers.py echo-protocol STATE_DIR
    python bench/_bench_servers.py bare-asgi STATE_DIR BODY_FILE

Prints one JSON line with the ports, then answers 'stats' on stdin with a JSON line, and
exits on 'quit' or end of input (bare-asgi: runs until terminated).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # peak resident set
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s() -> float:
    """CPU seconds this process has used (all threads): what a connection costs the server, whatever the load."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def serve_gateway(topology: str, state_dir: str) -> None:
    import msgspec

    from arclink.dns.server import start_dns_server
    from arclink.gateway.server import start_gateway
    from arclink.model import schema
    from arclink.model.index import build_index
    from arclink.model.live import LiveState

    topo = msgspec.json.decode(Path(topology).read_bytes(), type=schema.Topology)
    live = LiveState(build_index(topo))
    gw = start_gateway(live, state_dir, offline_after=60.0)
    dns = start_dns_server(live, "127.0.0.1", 0)
    print(json.dumps({"gateway": gw.port, "dns": dns.port}), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps({"counters": gw.counters, "rss_mb": rss_mb(), "cpu_s": cpu_s()}), flush=True)
        elif line.strip() == "quit":
            break
    dns.close()
    gw.close()


def serve_echo(state_dir: str, as_protocol: bool = False) -> None:
    """A plain TLS echo server with the gateway's certificate: the limit for TLS on this machine.

    As streams (``asyncio.start_server``), the idiomatic echo server; ``as_protocol``, an
    ``asyncio.Protocol`` on the loop's own TLS (``create_server(ssl=...)``), the leanest one can
    write in Python, as the gateway's sessions are.
    """
    from arclink.gateway.server import new_event_loop
    from arclink.gateway.tls import server_context

    ctx = server_context(state_dir)
    loop = new_event_loop()
    counters = {"connections": 0}

    async def echo(reader, writer):
        counters["connections"] += 1
        try:
            line = await reader.readline()
            writer.write(line)
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            counters["connections"] += 1
            self.transport, self.buffer = transport, b""

        def data_received(self, data):
            self.buffer += data
            end = self.buffer.find(b"\n")
            if end >= 0:
                self.transport.write(self.buffer[:end + 1])
                self.transport.close()

    async def start():
        if as_protocol:
            return await loop.create_server(Echo, "127.0.0.1", 0, ssl=ctx, backlog=4096)
        return await asyncio.start_server(echo, "127.0.0.1", 0, ssl=ctx, backlog=4096)

    server = loop.run_until_complete(start())
    threading.Thread(target=loop.run_forever, daemon=True).start()
    print(json.dumps({"echo": server.sockets[0].getsockname()[1]}), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps({"counters": counters, "rss_mb": rss_mb(), "cpu_s": cpu_s()}), flush=True)
        elif line.strip() == "quit":
            break


def serve_bare_asgi(state_dir: str, body_file: str) -> None:
    """The transport ARM GETs ride on, and nothing else: uvicorn with the settings and certificate
    `arclink serve` uses (uvloop, httptools), answering every request with the same JSON bytes."""
    import socket

    import uvicorn

    state = Path(state_dir)
    payload = Path(body_file).read_bytes()
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(payload)).encode())]

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off",
                            server_header=False, timeout_keep_alive=30, ssl_certfile=str(state / "arm-server.pem"),
                            ssl_keyfile=str(state / "arm-server-key.pem"))
    print(json.dumps({"bare": port}), flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    if sys.argv[1] == "gateway":
        serve_gateway(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "bare-asgi":
        serve_bare_asgi(sys.argv[2], sys.argv[3])
    else:
        serve_echo(sys.argv[2], as_protocol=sys.argv[1] == "echo-protocol")
