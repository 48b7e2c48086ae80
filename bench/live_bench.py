"""The live model under change: write-to-visible latency, DNS during an onboarding burst, PUT cost by estate size.

    python bench/live_bench.py                  # 1k and 100k clusters (about 5 minutes)
    python bench/live_bench.py --big 20000 --burst 2000 --samples 50

In process: the emulator's ASGI app called without a socket over an in-memory store, the DNS
server's own UDP protocol object (``arclink.dns.server._Udp``: the wire cache, then the query
cache) answering from a client in ``vnet-hub`` through a transport that keeps what it is given,
and the gateway's admission decision (the cluster an agent key belongs to, then ``reach()``).
So the figures are the live model's own, not the transport's. Each row has its peer in the same run:

1. write-to-visible, p50/p99, at ``--small`` and ``--big`` clusters, the two sizes measured in
   alternation: from a connectedCluster PUT's response to the first admission that admits it;
   from an A-record PUT's response to the first DNS answer carrying the new address; from a
   network write's response (the Arc endpoint's connection rejected, then approved again) to the
   first admission of an existing cluster that reflects it, ``--net-gap`` apart so that the
   worker's rebuilds run meanwhile, as they do after writes in ``arclink serve``;
2. DNS during an onboarding burst of ``--burst`` cluster PUTs on another thread, against the same
   server at rest for as long: queries answered per second and queries left unanswered; the
   burst as fast as one writer goes, and paced at ``--rate`` PUTs/s. Twice: the DNS process
   ``arclink serve`` runs (``arclink.dns.process``, fed by the store written to), asked by dnsperf
   over loopback; and, for comparison, the same server's protocol object in the writer's process;
3. connectedCluster PUT p99 at ``--big`` clusters against ``--small`` (alternating PUTs).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
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
from arclink.dns.process import DnsProcess  # noqa: E402
from arclink.dns.server import _Udp  # noqa: E402
from arclink.model import loader  # noqa: E402
from arclink.model.arm_codec import index_from_resources  # noqa: E402
from arclink.model.reach import reach  # noqa: E402
from arclink.stack import start_store_dns  # noqa: E402

CLUSTERS_API = "2024-07-15-preview"
SCOPES_API = "2024-07-10"
ZONES_API = "2024-06-01"
CLIENT = "10.10.1.200"  # a client in vnet-hub (no packet is sent)


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
        # the address and name an agent connects to: the scope's endpoint for the Hybrid Identity Service
        self.endpoint = next((a, rec.record.fqdn) for a, (_, rec) in sorted(ix._endpoints_by_address.items())
                             if "his" in rec.record.fqdn)
        # the Arc endpoint's connection to the scope, which the network row rejects and approves
        self.connection = next(self.store.get_obj(k)["id"] for k in self.store.bodies
                               if "hybridcompute/privatelinkscopes/" in k and "/privateendpointconnections/" in k)
        for i in range(clusters):  # written straight into the store: the estate, not the measurement
            key = self.cluster_path(f"fleet-{i}")
            self.store.put(key, self.cluster_body(key))
        # the debounce of ``arclink serve``: the worker catches up (and collects) once writes pause
        self.live = StoreLiveState(self.store, debounce=0.25)
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
        if key:  # as the emulator stores it, each with an agent key of its own (as onboarded clusters have)
            body.update(id=key, name=key.rsplit("/", 1)[1], type="Microsoft.Kubernetes/connectedClusters")
            body["properties"]["agentPublicKeyCertificate"] = base64.b64encode(key.encode()).decode()
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


class Recorder:
    """A datagram transport that keeps the last response."""

    def __init__(self) -> None:
        self.last: bytes | None = None

    def sendto(self, data: bytes, addr: object) -> None:
        self.last = data


class DnsClient:
    """Queries through the DNS server's UDP protocol object, as from ``CLIENT`` in vnet-hub."""

    def __init__(self, live: StoreLiveState) -> None:
        self.udp = _Udp(QueryCache(live))
        self.sent = Recorder()
        self.udp.connection_made(self.sent)  # type: ignore[arg-type]

    def ask(self, wire: bytes) -> bytes | None:
        self.sent.last = None
        self.udp.datagram_received(wire, (CLIENT, 5353))
        return self.sent.last


def admission(emu: Emulator, der: bytes) -> bool:
    """What the gateway decides for an agent presenting ``der`` to the hub's private endpoint."""
    _, ix, cluster = emu.live.admission(der)
    if cluster is None:
        return False
    return reach(ix, cluster, emu.endpoint[0], emu.endpoint[1], cluster.address).admitted


def network_to_admission(emu: Emulator, i: int) -> float:
    """PUT response -> first admission that reflects it, ms, for a network write: the Arc endpoint's
    connection rejected (even ``i``) or approved (odd), an onboarded cluster's agent asking."""
    status = "Approved" if i % 2 else "Rejected"
    assert emu.call("PUT", emu.connection, SCOPES_API, {"properties": {
        "privateLinkServiceConnectionState": {"status": status, "description": status}}}) < 300
    t1 = time.perf_counter()
    if admission(emu, emu.cluster_path("fleet-0").encode()) != (status == "Approved"):
        raise AssertionError(f"the first admission after the connection was {status} does not reflect it")
    return (time.perf_counter() - t1) * 1000


def write_to_admission(emu: Emulator, i: int) -> tuple[float, float]:
    """(PUT ms, PUT response -> first admission ms) for a new cluster."""
    der = f"probe-{i}".encode()
    body = emu.cluster_body()
    body["properties"]["agentPublicKeyCertificate"] = base64.b64encode(der).decode()
    t0 = time.perf_counter()
    assert emu.call("PUT", emu.cluster_path(f"probe-{i}"), CLUSTERS_API, body) < 300
    t1 = time.perf_counter()
    if not admission(emu, der):  # the first admission after the response must admit it
        raise AssertionError("a cluster written through ARM is not admitted")
    return (t1 - t0) * 1000, (time.perf_counter() - t1) * 1000


def write_to_answer(emu: Emulator, client: DnsClient, i: int) -> float:
    """PUT response -> first DNS answer with the new address, ms, for an A record in the hub's zone."""
    address = f"10.10.3.{100 + i % 100}"
    q = dns.message.make_query("probe.privatelink.his.arc.azure.com", "A").to_wire()
    client.ask(q)  # the old answer is in the cache
    emu.call("PUT", f"{emu.zone}/A/probe", ZONES_API, {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": address}]}})
    t1 = time.perf_counter()
    resp = client.ask(q)
    took = (time.perf_counter() - t1) * 1000
    assert resp is not None and address in dns.message.from_wire(resp).to_text()
    return took


def onboard(emu: Emulator, tag: str, rate: float | None, count: int | None, stop: threading.Event,
            made: list[int]) -> None:
    """Cluster PUTs through the ARM app, on a loop of this thread's own: ``count`` of them (None: until
    ``stop``), at ``rate`` PUTs/s or flat out; ``made[0]`` counts them. Sets ``stop`` when done."""
    writer = Emulator.__new__(Emulator)
    writer.__dict__.update(emu.__dict__)
    writer.loop = asyncio.new_event_loop()
    start = time.perf_counter()
    i = 0
    while not stop.is_set() and (count is None or i < count):
        if rate:
            wait = start + i / rate - time.perf_counter()
            if wait > 0 and stop.wait(wait):  # pacing the writer, not waiting for a result
                break
        writer.call("PUT", emu.cluster_path(f"{tag}-{i}"), CLUSTERS_API, emu.cluster_body())
        made[0] = i = i + 1
    stop.set()


def dns_rate(emu: Emulator, seconds: float, burst: int, rate: float | None) -> tuple[float, int, int, float]:
    """DNS queries/s for ``seconds`` at rest, or while ``burst`` cluster PUTs go through the ARM app on
    another thread (at ``rate`` PUTs/s, or flat out); returns (q/s, lost, PUTs made, seconds)."""
    client = DnsClient(emu.live)
    wire = dns.message.make_query("his.arc.azure.com", "A").to_wire()
    done = threading.Event()
    made = [0]
    args = (emu, f"burst-{time.monotonic_ns()}", rate, burst, done, made)

    answered = lost = 0
    th = threading.Thread(target=onboard, args=args) if burst else None
    t0 = time.perf_counter()
    if th:
        th.start()
    while not done.is_set() if th else time.perf_counter() - t0 < seconds:
        if client.ask(wire) is None:
            lost += 1
        else:
            answered += 1
    elapsed = time.perf_counter() - t0
    if th:
        th.join()
    return answered / elapsed, lost, made[0], elapsed


def dns_process(store: Store) -> DnsProcess:
    """The DNS process over ``store``, told of its names writes, as ``arclink serve`` starts it."""
    proc = start_store_dns(store)
    proc.wait_ready()
    return proc


def dnsperf(port: int, qfile: str, seconds: int) -> tuple[float, int]:
    """(queries/s, lost) from dnsperf for ``seconds``, every query from ``CLIENT`` (an ECS option)."""
    ecs = "0001" + "20" + "00" + "".join(f"{int(o):02x}" for o in CLIENT.split("."))
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile, "-l", str(seconds), "-c", "4", "-q", "100",
           "-T", "1", "-t", "5", "-e", "-E", f"8:{ecs}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    qps, lost = re.search(r"Queries per second:\s+([\d.]+)", out), re.search(r"Queries lost:\s+(\d+)", out)
    if not qps or not lost:
        raise SystemExit(f"dnsperf said: {out.strip()[-300:]}")
    return float(qps.group(1)), int(lost.group(1))


def dns_process_rate(emu: Emulator, port: int, qfile: str, seconds: int, rate: float | None) -> tuple[float, int, int]:
    """(q/s, lost, PUTs made) from dnsperf for ``seconds`` while cluster PUTs go through the ARM app on
    another thread of this process, at ``rate`` PUTs/s or flat out."""
    stop = threading.Event()
    made = [0]
    th = threading.Thread(target=onboard, args=(emu, f"proc-{time.monotonic_ns()}", rate, None, stop, made))
    th.start()
    try:
        qps, lost = dnsperf(port, qfile, seconds)
    finally:
        stop.set()
        th.join()
    return qps, lost, made[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=1_000)
    # a p99 of 200 samples is the second slowest PUT: one scheduler hiccup on a loaded machine decides it
    ap.add_argument("--samples", type=int, default=1000, help="cluster PUTs per size (alternating)")
    ap.add_argument("--dns-samples", type=int, default=10, help="A-record writes per size (each may rebuild)")
    ap.add_argument("--net-samples", type=int, default=40, help="network writes per size, alternating")
    ap.add_argument("--net-gap", type=float, default=0.3, help="seconds between network writes (the worker "
                                                               "rebuilds meanwhile)")
    ap.add_argument("--burst", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=500.0, help="paced burst, PUTs/s (500: onboarding 10,000 "
                                                              "clusters through the gateway took 20 s)")
    args = ap.parse_args()
    emus = {}
    for n in (args.small, args.big):
        t = time.perf_counter()
        emus[n] = Emulator(n)
        print(f"{n} clusters ready in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    put: dict[int, list[float]] = {n: [] for n in emus}
    vis: dict[int, list[float]] = {n: [] for n in emus}
    for i in range(args.samples):  # alternating, so both sizes see the same machine
        for n, emu in emus.items():
            a, b = write_to_admission(emu, i)
            put[n].append(a)
            vis[n].append(b)
    ans: dict[int, list[float]] = {n: [] for n in emus}
    rebuild: dict[int, float] = {}
    for n, emu in emus.items():
        client = DnsClient(emu.live)
        ans[n] = [write_to_answer(emu, client, i) for i in range(args.dns_samples)]
        t = time.perf_counter()
        index_from_resources(emu.store.model_objects(), onprem_of(emu.store))
        rebuild[n] = (time.perf_counter() - t) * 1000
    net: dict[int, list[float]] = {n: [] for n in emus}
    rebuilt: dict[int, int] = {}
    for n, emu in emus.items():
        before = emu.live.rebuilds
        for i in range(args.net_samples + args.net_samples % 2):  # ends approved, as it began
            net[n].append(network_to_admission(emu, i))
            time.sleep(args.net_gap)  # pacing the writes: the worker's rebuilds run in the gaps
        rebuilt[n] = emu.live.rebuilds - before
    small = emus[args.small]
    dns_rows = []
    for rate in (None, args.rate):
        before, lost_before, _, _ = dns_rate(small, 5.0, 0, None)
        busy, busy_lost, puts, took = dns_rate(small, 0, args.burst, rate)
        after, lost_after, _, _ = dns_rate(small, min(took, 10.0), 0, None)
        rest, rest_lost = (before + after) / 2, lost_before + lost_after  # at rest just before and just after
        dns_rows.append((rate, busy, busy_lost, rest, rest_lost, puts, took))
    proc_rows = []
    if shutil.which("dnsperf"):
        proc = dns_process(small.store)
        with tempfile.NamedTemporaryFile("w", suffix=".queries", delete=False) as fh:
            fh.write("westeurope.dp.kubernetesconfiguration.azure.com A\ngbl.his.arc.azure.com A\n")
        try:
            for rate in (None, args.rate):
                seconds = max(5, round(args.burst / rate)) if rate else 10
                before, lost_before = dnsperf(proc.port, fh.name, seconds)
                busy, busy_lost, puts = dns_process_rate(small, proc.port, fh.name, seconds, rate)
                after, lost_after = dnsperf(proc.port, fh.name, seconds)
                proc_rows.append((rate, busy, busy_lost, (before + after) / 2, lost_before + lost_after, puts, seconds))
        finally:
            proc.close()
            os.unlink(fh.name)
    else:
        print("dnsperf is not installed (apt-get install dnsperf): the DNS process rows are left out", file=sys.stderr)
    for emu in emus.values():
        emu.live.close()

    s, b = args.small, args.big
    ok = lambda c: "met" if c else "NOT MET"  # noqa: E731
    print(f"\n## live model under change (in process, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})\n")
    print(f"| measure | {s:,} | {b:,} | peer / target | verdict |")
    print("|---|---:|---:|---|---|")
    for name, xs in (("cluster PUT -> first admission", vis), ("A-record PUT -> first DNS answer", ans),
                     (f"network write -> first admission (endpoint connection rejected/approved; the worker "
                      f"rebuilt {rebuilt[s]} / {rebuilt[b]} times meanwhile)", net)):
        p99s, p99b = pct(xs[s], 0.99), pct(xs[b], 0.99)
        print(f"| {name}, p50 / p99 ms | {statistics.median(xs[s]):.2f} / {p99s:.2f} | "
              f"{statistics.median(xs[b]):.2f} / {p99b:.2f} | p99 < 20 ms; a rebuild from scratch: "
              f"{rebuild[s]:.0f} / {rebuild[b]:.0f} ms | {ok(p99s < 20 and p99b < 20)} |")
    ratio = pct(put[b], 0.99) / pct(put[s], 0.99)
    print(f"| connectedCluster PUT, p50 / p99 ms | {statistics.median(put[s]):.2f} / {pct(put[s], 0.99):.2f} | "
          f"{statistics.median(put[b]):.2f} / {pct(put[b], 0.99):.2f} | p99 {ratio:.2f}x the small estate's; "
          f"<= 1.2x | {ok(ratio <= 1.2)} |")
    for where, rows in (("the DNS process, dnsperf", proc_rows), ("in the writer's process", dns_rows)):
        for rate, busy, busy_lost, rest, rest_lost, puts, took in rows:
            how = f"{rate:.0f} PUTs/s" if rate else "flat out"
            print(f"| DNS q/s during {puts:,} cluster PUTs ({how}, {took:.1f} s; {s:,} estate; {where}) | "
                  f"{busy:,.0f}, {busy_lost} lost | | at rest {rest:,.0f}, {rest_lost} lost: {busy / rest:.2f}x; "
                  f">= 0.8x, 0 lost | {ok(busy / rest >= 0.8 and busy_lost + rest_lost == 0)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
