"""The live model under change: write-to-visible latency, DNS during an onboarding burst, PUT cost by estate size.

    python bench/live_bench.py                  # 1k and 100k clusters
    python bench/live_bench.py --big 20000 --burst 2000 --samples 50

In process (the emulator's ASGI app called without a socket, the DNS server's query cache
answering wire-format queries, the gateway's view of a cluster), so the figures are the live
model's own, not the transport's. Each row has its peer in the same run:

1. write-to-visible: from a connectedCluster PUT's response to the first ``snapshot()`` (what a
   gateway admission reads) holding the cluster, p50/p99, at 1k and at ``--big`` clusters; peer:
   a rebuild from scratch of the same store (what every write cost before the live model patched);
   and from an A-record PUT's response to the first DNS answer carrying the new address (zone
   writes still rebuild: the figure says what that costs at each size);
2. DNS during an onboarding burst of ``--burst`` cluster PUTs on another thread against the same
   cache at rest: queries/s and queries left unanswered;
3. cluster PUT p99 at ``--big`` clusters against 1k.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import dns.message

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from arclink.arm.app import create_app  # noqa: E402
from arclink.arm.config import ArmConfig  # noqa: E402
from arclink.arm.live import StoreLiveState  # noqa: E402
from arclink.arm.model_view import onprem_of  # noqa: E402
from arclink.arm.seed import seed_topology  # noqa: E402
from arclink.arm.store import Store  # noqa: E402
from arclink.dns.cache import QueryCache  # noqa: E402
from arclink.model import loader  # noqa: E402
from arclink.model.arm_codec import index_from_resources  # noqa: E402

CLUSTERS_API = "2024-07-15-preview"
ZONES_API = "2024-06-01"


class Emulator:
    def __init__(self, clusters: int) -> None:
        self.store = Store()
        seed_topology(self.store, loader.load(ROOT / "examples" / "good.yaml").topology)
        self.sub = self.store.meta.get("subscription") or next(
            k.split("/")[2] for k in self.store.bodies if k.startswith("/subscriptions/"))
        ix = index_from_resources(self.store.model_objects(), onprem_of(self.store))
        c0 = next(iter(ix.clusters.values()))
        self.rg, self.site = c0.resource_group, c0.site.name if c0.site else None
        self.scope = next(iter(ix.scopes.values())).id
        self.zone = next(z for z in ix.zones.values() if z.zone_name.startswith("privatelink.his")).id
        for i in range(clusters):  # written straight into the store: the estate, not the measurement
            key = self.cluster_path(f"fleet-{i}")
            self.store.put(key, self.cluster_body(key))
        self.live = StoreLiveState(self.store, debounce=3600)
        self.live.refresh()
        self.app = create_app(self.store, self.live, ArmConfig(token="t", subscription=self.sub, tenant="tenant"))
        self.loop = asyncio.new_event_loop()

    def cluster_path(self, name: str) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{self.rg}/providers/Microsoft.Kubernetes/connectedClusters/{name}"

    def cluster_body(self, key: str | None = None) -> dict:
        body = {"location": "westeurope", "tags": {"arclink-site": self.site} if self.site else {},
                "identity": {"type": "SystemAssigned"},
                "properties": {"agentPublicKeyCertificate": "MIIBCgKCAQEAtest", "privateLinkState": "Enabled",
                               "privateLinkScopeResourceId": self.scope}}
        if key:  # as the emulator stores it
            body.update(id=key, name=key.rsplit("/", 1)[1], type="Microsoft.Kubernetes/connectedClusters")
        return body

    def call(self, method: str, path: str, api: str, body: dict) -> int:
        data = json.dumps(body).encode()
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": data, "more_body": False}

        async def send(msg: dict) -> None:
            sent.append(msg)

        scope = {"type": "http", "method": method, "path": path, "query_string": f"api-version={api}".encode(),
                 "headers": [(b"authorization", b"Bearer t"), (b"content-type", b"application/json")]}
        self.loop.run_until_complete(self.app(scope, receive, send))
        return next(m["status"] for m in sent if m["type"] == "http.response.start")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def visible(emu: Emulator, samples: int, tag: str) -> dict:
    lat, puts = [], []
    for i in range(samples):
        path = emu.cluster_path(f"probe-{tag}-{i}")
        t0 = time.perf_counter()
        assert emu.call("PUT", path, CLUSTERS_API, emu.cluster_body()) < 300
        t1 = time.perf_counter()
        _, ix = emu.live.snapshot()  # what the gateway reads on a connection
        assert ix.cluster(path) is not None
        lat.append((time.perf_counter() - t1) * 1000)
        puts.append((t1 - t0) * 1000)
    t = time.perf_counter()
    index_from_resources(emu.store.model_objects(), onprem_of(emu.store))
    rebuild = (time.perf_counter() - t) * 1000
    # a zone write: the first DNS answer with the new address
    cache = QueryCache(emu.live)
    q = dns.message.make_query("probe.privatelink.his.arc.azure.com", "A").to_wire()
    dlat = []
    for i in range(max(3, samples // 20)):
        address = f"10.10.3.{100 + i}"
        emu.call("PUT", f"{emu.zone}/A/probe", ZONES_API, {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": address}]}})
        t1 = time.perf_counter()
        resp = dns.message.from_wire(cache.respond(q, "10.10.1.200", "udp"))  # a client in vnet-hub (no packet is sent)
        assert address in resp.to_text()
        dlat.append((time.perf_counter() - t1) * 1000)
    return {"p50": statistics.median(lat), "p99": pct(lat, 0.99), "rebuild": rebuild,
            "put_p99": pct(puts, 0.99), "dns_p50": statistics.median(dlat), "dns_p99": pct(dlat, 0.99)}


def dns_rate(emu: Emulator, seconds: float, burst: int) -> tuple[float, int, int, float]:
    """DNS queries/s from a client in vnet-hub for ``seconds`` at rest, or while ``burst`` cluster PUTs
    go through the ARM app on another thread; returns (q/s, lost, PUTs made, seconds)."""
    cache = QueryCache(emu.live)
    wire = dns.message.make_query("his.arc.azure.com", "A").to_wire()
    done = threading.Event()
    made = [0]

    def onboard() -> None:
        writer = Emulator.__new__(Emulator)
        writer.__dict__.update(emu.__dict__)
        writer.loop = asyncio.new_event_loop()
        for i in range(burst):
            writer.call("PUT", emu.cluster_path(f"burst-{i}"), CLUSTERS_API, emu.cluster_body())
            made[0] += 1
        done.set()

    answered = lost = 0
    th = threading.Thread(target=onboard) if burst else None
    t0 = time.perf_counter()
    if th:
        th.start()
    while not done.is_set() if th else time.perf_counter() - t0 < seconds:
        if cache.respond(wire, "10.10.1.200", "udp") is None:
            lost += 1
        else:
            answered += 1
    elapsed = time.perf_counter() - t0
    if th:
        th.join()
    return answered / elapsed, lost, made[0], elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--burst", type=int, default=10_000)
    args = ap.parse_args()
    rows = {}
    for n in (args.small, args.big):
        t = time.perf_counter()
        emu = Emulator(n)
        print(f"{n} clusters ready in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        rows[n] = visible(emu, args.samples, str(n))
        if n == args.small:
            busy, busy_lost, puts, took = dns_rate(emu, 0, args.burst)
            rest, rest_lost, _, _ = dns_rate(emu, took, 0)
            rows["dns"] = (rest, rest_lost, busy, busy_lost, puts)
        emu.live.close()
    s, b = rows[args.small], rows[args.big]
    rest, rest_lost, busy, busy_lost, puts = rows["dns"]
    print(f"\n## live model under change (in process, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})\n")
    print("| measure | 1k | big | peer | ratio / target | verdict |")
    print("|---|---:|---:|---|---|---|")
    ok = lambda c: "ok" if c else "NOT MET"  # noqa: E731
    print(f"| cluster PUT -> admission sees it, p50 ms | {s['p50']:.2f} | {b['p50']:.2f} | rebuild {s['rebuild']:.0f} / "
          f"{b['rebuild']:.0f} ms | p99 < 20 ms | |")
    print(f"| cluster PUT -> admission sees it, p99 ms | {s['p99']:.2f} | {b['p99']:.2f} | | < 20 ms | "
          f"{ok(s['p99'] < 20 and b['p99'] < 20)} |")
    print(f"| A-record PUT -> first DNS answer, p50 ms | {s['dns_p50']:.1f} | {b['dns_p50']:.1f} | | | |")
    print(f"| A-record PUT -> first DNS answer, p99 ms | {s['dns_p99']:.1f} | {b['dns_p99']:.1f} | | < 20 ms | "
          f"{ok(s['dns_p99'] < 20 and b['dns_p99'] < 20)} |")
    ratio = b['put_p99'] / s['put_p99']
    print(f"| cluster PUT p99 ms | {s['put_p99']:.2f} | {b['put_p99']:.2f} | the 1k run | {ratio:.2f}x (<= 1.2x) | "
          f"{ok(ratio <= 1.2)} |")
    print(f"| DNS q/s during a burst of {puts} cluster writes ({args.small} estate) | {busy:.0f} | | at rest {rest:.0f} | "
          f"{busy / rest:.2f}x (>= 0.8x), lost {busy_lost + rest_lost} | {ok(busy / rest >= 0.8 and busy_lost + rest_lost == 0)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
