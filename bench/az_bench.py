"""Seconds per real ``az`` command against the emulator, next to the share spent in the emulator.

    python bench/az_bench.py                       # az from PATH, .venv-az, or ARCLINK_TEST_AZ
    python bench/az_bench.py --repeat 5 --az ~/.az/bin/az

The emulator runs in this process (``arclink.stack.start_services``, in memory, port 0) and its
outermost ASGI app is wrapped in a timer: every request is timed from the moment uvicorn hands it to
the app to the last byte of the answer (TLS and socket time are outside, and belong to neither
side's tuning). Each az command runs as a subprocess, one at a time, so the requests timed while it
runs are its requests. The table gives, per command, the wall time of az, the emulator's time, the
number of requests and the emulator's share; the rest is az itself (Python start-up, imports, MSAL,
argument parsing, output). The commands are those the exported ``deploy.sh`` runs, on a fresh state:
first the creates, then the shows a second run of the script makes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SUB = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"
RG = "rg-bench"
NET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
SCOPE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.HybridCompute/privateLinkScopes/pls-bench"
ZONE = "privatelink.his.arc.azure.com"
S = ["--subscription", SUB]
G = ["--resource-group", RG]

# (label, az arguments); run in this order, so each create finds what it needs
CREATES = [
    ("provider register", ["provider", "register", "--namespace", "Microsoft.HybridCompute", *S, "--wait"]),
    ("group create", ["group", "create", "--name", RG, "--location", "westeurope", *S]),
    ("network nsg create", ["network", "nsg", "create", *G, "--name", "nsg-bench", "--location", "westeurope", *S]),
    ("network nsg rule create", ["network", "nsg", "rule", "create", *G, "--nsg-name", "nsg-bench", "--name", "r1",
                                 "--priority", "150", "--direction", "Outbound", "--access", "Allow", "--protocol",
                                 "Tcp", "--destination-port-ranges", "443", *S]),
    ("network vnet create", ["network", "vnet", "create", *G, "--name", "vnet-bench", "--location", "westeurope",
                             "--address-prefixes", "10.10.0.0/16", *S]),
    ("network vnet subnet create", ["network", "vnet", "subnet", "create", *G, "--vnet-name", "vnet-bench", "--name",
                                    "snet", "--address-prefixes", "10.10.1.0/24", "--network-security-group",
                                    f"{NET}/networkSecurityGroups/nsg-bench", *S]),
    ("resource create (scope)", ["resource", "create", "--id", SCOPE, "--api-version", "2025-01-13", "--location",
                                 "westeurope", "--properties", '{"publicNetworkAccess":"Disabled"}']),
    ("private-dns zone create", ["network", "private-dns", "zone", "create", *G, "--name", ZONE, *S]),
    ("private-dns link vnet create", ["network", "private-dns", "link", "vnet", "create", *G, "--zone-name", ZONE,
                                      "--name", "link", "--virtual-network", f"{NET}/virtualNetworks/vnet-bench",
                                      "--registration-enabled", "false", *S]),
    ("monitor private-link-scope create", ["monitor", "private-link-scope", "create", *G, "--name", "ampls-bench",
                                           *S, "--only-show-errors"]),
    ("private-endpoint create", ["network", "private-endpoint", "create", *G, "--name", "pe-bench", "--location",
                                 "westeurope", "--subnet", f"{NET}/virtualNetworks/vnet-bench/subnets/snet",
                                 "--private-connection-resource-id", SCOPE, "--group-id", "hybridcompute",
                                 "--connection-name", "pe-bench", *S]),
    ("dns-zone-group create", ["network", "private-endpoint", "dns-zone-group", "create", *G, "--endpoint-name",
                               "pe-bench", "--name", "default", "--private-dns-zone", f"{NET}/privateDnsZones/{ZONE}",
                               "--zone-name", "his", *S]),
    ("rest get (connections)", ["rest", "--method", "get", "--url",
                                f"{SCOPE}/privateEndpointConnections?api-version=2025-01-13"]),
]
SHOWS = [
    ("group show", ["group", "show", "--name", RG, *S]),
    ("network vnet show", ["network", "vnet", "show", *G, "--name", "vnet-bench", *S]),
    ("resource show (scope)", ["resource", "show", "--ids", SCOPE, "--api-version", "2025-01-13"]),
    ("private-endpoint show", ["network", "private-endpoint", "show", *G, "--name", "pe-bench", *S]),
    ("private-dns zone show", ["network", "private-dns", "zone", "show", *G, "--name", ZONE, *S]),
]


class TimedApp:
    """The outermost ASGI app with a stopwatch: (seconds, method, path) per request."""

    def __init__(self, app):
        self.app = app
        self.records: list[tuple[float, str, str]] = []
        self.lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            with self.lock:
                self.records.append((time.perf_counter() - start, scope["method"], scope["path"]))

    def take(self) -> list[tuple[float, str, str]]:
        with self.lock:
            out, self.records = self.records, []
        return out


def find_az(explicit: str | None) -> str | None:
    for candidate in (explicit, os.environ.get("ARCLINK_TEST_AZ"), shutil.which("az"),
                      str(ROOT / ".venv-az" / "bin" / "az")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--az", help="the az executable")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each show command (default 3)")
    args = ap.parse_args()
    az = find_az(args.az)
    if az is None:
        print("az_bench: the Azure CLI is not installed; pass --az PATH (see docs/az-cli.md).", file=sys.stderr)
        return 2

    from arclink.cli.az_login import DEAD_PROXY, login
    from arclink.stack import start_services

    with tempfile.TemporaryDirectory(prefix="arclink-az-bench-") as tmp:
        state = Path(tmp) / "state"
        svc = start_services(state, in_memory=True, subscription=SUB)  # serve --subscription
        try:
            timer = TimedApp(svc._server.config.loaded_app)
            svc._server.config.loaded_app = timer  # new connections (each az process opens its own) use it
            config_dir, ca = login(state / "endpoints.json", az)
            timer.take()
            env = dict(os.environ, AZURE_CONFIG_DIR=str(config_dir), REQUESTS_CA_BUNDLE=ca,
                       HTTPS_PROXY=DEAD_PROXY, HTTP_PROXY=DEAD_PROXY, NO_PROXY="127.0.0.1,localhost",
                       AZURE_CORE_COLLECT_TELEMETRY="no", AZURE_EXTENSION_USE_DYNAMIC_INSTALL="no")
            rows = [("az version (no request)", *measure(az, ["version"], env, timer, 1))]
            rows += [(label, *measure(az, argv, env, timer, 1)) for label, argv in CREATES]
            rows += [(label, *measure(az, argv, env, timer, args.repeat)) for label, argv in SHOWS]
        finally:
            svc.stop()
    print_table(rows, az)
    return 0


def measure(az: str, argv: list[str], env: dict, timer: TimedApp, repeat: int):
    walls, servers, requests = [], [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run([az, *argv, "--output", "none"], env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=600)
        walls.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"az_bench: 'az {' '.join(argv)}' failed: {proc.stderr.strip()}")
        records = timer.take()
        servers.append(sum(r[0] for r in records))
        requests += len(records)
    return repeat, statistics.median(walls), statistics.median(servers), requests / repeat


def print_table(rows, az: str) -> None:
    print(f"## real az ({az}) against arclink serve, in-process emulator, one command at a time\n")
    print("| command | runs | az wall s | emulator s | requests | emulator share |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, runs, wall, server, reqs in rows:
        print(f"| {label} | {runs} | {wall:.2f} | {server:.3f} | {reqs:.0f} | {100 * server / wall:.1f}% |")
    wall = sum(r[2] for r in rows)
    server = sum(r[3] for r in rows)
    print(f"| **all (medians summed)** | | {wall:.2f} | {server:.3f} | | {100 * server / wall:.1f}% |")
    print(f"\naz itself : emulator = {(wall - server) / server:.0f} : 1 — a faster emulator barely changes a "
          "script's run time; az's start-up does." if server else "")


if __name__ == "__main__":
    sys.exit(main())
