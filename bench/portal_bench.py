"""The portal with 10,000 clusters at 1,000 sites: every page's response time and the picture's size.

A benchmark, not a timed test: it starts the emulator seeded with a fleet (one hub, the sites
forwarding to its resolver, every cluster associated with the scope, with trouble mixed in so
the picture has more than one path), signs in with the static token and, for each page:

- **first**: the page fetched right after a change to the live model (the scope's public network
  access toggled through ARM), while the background computation of the new version runs: the
  page answers from the previous computation and says "updating";
- **during**: the page fetched again and again while that computation runs, the worst of them:
  the server rebuilding its live index and the collector's passes over it share the process
  with the page (the first fetch may finish before they start);
- **warm**: the page fetched again once that computation is ready (median and worst of --rounds).

The background computation (index build, a trace per cluster, the picture, the rules and their
rendering) is reported separately, as the portal measures it (``data-seconds`` of the page's
"as of version N" line), with the picture's SVG element count. Targets: every page under 1 s,
first, during and warm; the picture under 3,000 elements. ``--in-thread`` computes in a thread of
the server's process instead of the portal's child process, to compare the two.

    PYTHONPATH=src python bench/portal_bench.py [--clusters 10000] [--sites 1000] [--rounds 3] [--in-thread]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TARGET_S, TARGET_ELEMENTS = 1.0, 3000


def _varied(topo):
    """A fleet with trouble in it, so the picture has more than one path: every tenth site's DNS
    forwards everything to a public resolver, every seventh cluster has private link disabled."""
    import msgspec

    sites = [msgspec.structs.replace(s, dns=msgspec.structs.replace(s.dns, conditional_forwarders=[],
                                                                      upstream="8.8.8.8"))
             if i % 10 == 0 and s.dns is not None else s for i, s in enumerate(topo.sites)]
    clusters = [msgspec.structs.replace(c, private_link_state="Disabled", private_link_scope_resource_id=None)
                if i % 7 == 0 else c for i, c in enumerate(topo.clusters)]
    return msgspec.structs.replace(topo, sites=sites, clusters=clusters)


class Client:
    def __init__(self, endpoints: dict) -> None:
        u = urlsplit(endpoints["arm"])
        ctx = ssl.create_default_context(cafile=endpoints["ca_cert"])
        self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=600)
        self.cookie = ""

    def get(self, path: str, form: dict | None = None) -> tuple[int, dict, str, float]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
        start = time.perf_counter()
        self.conn.request("POST" if form is not None else "GET", path, body=body, headers=headers)
        r = self.conn.getresponse()
        text = r.read().decode()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, text, time.perf_counter() - start


def _as_of(page: str) -> tuple[str, bool, float | None]:
    m = re.search(r'<p class="asof" data-version="(\d*)" data-updating="(true|false)"(?: data-seconds="([\d.]+)")?',
                  page)
    if not m:
        return "", False, None
    return m.group(1), m.group(2) == "true", float(m.group(3)) if m.group(3) else None


def _memory(pid: int | str = "self") -> tuple[float, float]:
    """(RSS, peak RSS) of a process in MiB, from /proc."""
    got = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                got[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return got.get("VmRSS", 0.0), got.get("VmHWM", 0.0)


def _computation_child() -> int | None:
    """The portal's child process (a spawned multiprocessing worker of this process), if any."""
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmd:
                return int(pid)
    return None


def _during(client: Client, path: str, timeout: float = 600) -> tuple[list[float], str, float]:
    """Fetch ``path`` until a fetch says the computation is current: the times of those that said
    "updating", and the version and seconds of the computation."""
    times: list[float] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, page, took = client.get(path)
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
        version, updating, seconds = _as_of(page)
        if not version:  # a page that shows no computation: ask the findings page whether it is done
            version, updating, seconds = _as_of(client.get("/portal/findings")[2])
        if version and not updating and seconds is not None:
            return times, version, seconds
        times.append(took)
        time.sleep(0.05)  # a reader, not a flood: thousands of fetches would slow what they wait for
    raise SystemExit("the portal's background computation did not finish")


def _settled(client: Client, timeout: float = 600) -> tuple[str, float]:
    """Wait until the overview says its computation is current; (version, seconds it took)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, _, page, _ = client.get("/portal/findings")
        version, updating, seconds = _as_of(page)
        if version and not updating and seconds is not None:
            return version, seconds
        time.sleep(0.25)
    raise SystemExit("the portal's background computation did not finish")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clusters", type=int, default=10_000)
    ap.add_argument("--sites", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--in-thread", action="store_true",
                    help="compute in a thread of the server's process instead of a child process (to compare)")
    args = ap.parse_args()
    if args.in_thread:
        import arclink.portal.app

        arclink.portal.app.ISOLATE = False

    from arclink.agent import fleet
    from arclink.agent.arm_client import ArmClient, Endpoints
    from arclink.portal.svg import element_count
    from arclink.stack import start_services

    topo = _varied(fleet.fleet_topology(args.sites, [fleet.fleet_cluster(i, args.sites) for i in range(args.clusters)]))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as state:
        svc = start_services(state, in_memory=True, topology=topo)
        arm = ArmClient(Endpoints.from_dict(svc.endpoints, state))
        try:
            print(f"seeded {args.clusters} clusters at {args.sites} sites in {time.perf_counter() - t0:.1f} s")
            client = Client(svc.endpoints)
            _, headers, _, _ = client.get("/portal/signin/token", {"token": svc.endpoints["token"], "next": "/portal/"})
            client.cookie = headers["set-cookie"].split(";", 1)[0]
            first_s = client.get("/portal/")[3]
            version, seconds = _settled(client)
            computations = [seconds]
            print(f"the first computation (version {version}): {seconds:.2f} s in the background; the first overview "
                  f"answered in {first_s:.3f} s before it was ready")
            ix = svc.live.index
            scope = ix.scopes[next(iter(ix.scopes))]
            endpoint = next(iter(ix.endpoints.values()))
            cluster = next(iter(ix.clusters.values()))
            pages = {"overview": "/portal/", "scopes": "/portal/scopes", "scope": f"/portal/scope?id={quote(scope.id)}",
                     "endpoint": f"/portal/endpoint?id={quote(endpoint.id)}", "clusters": "/portal/clusters",
                     "group": "", "cluster": f"/portal/cluster?id={quote(cluster.id)}",
                     "findings": "/portal/findings", "rule": "/portal/rules/APL001"}
            pna = "Disabled"
            rows, elements, worst = [], 0, 0.0
            for name, path in pages.items():
                if name == "group":  # the largest group of the picture, opened as the overview links it
                    _, _, overview, _ = client.get("/portal/")
                    groups = re.findall(r'href="(/portal/clusters\?group=[^"]+)"[^>]*aria-label="Group (\d+) clusters',
                                        overview)
                    path = max(groups, key=lambda g: int(g[1]))[0] if groups else "/portal/clusters?verdict=refused"
                pna = "Enabled" if pna == "Disabled" else "Disabled"
                arm.put(scope.id, "2024-07-10", {"location": scope.location, "properties": {"publicNetworkAccess": pna}})
                status, _, body, first = client.get(path)
                updating = _as_of(body)[1]
                if status != 200:
                    print(f"{name}: HTTP {status}", file=sys.stderr)
                    return 1
                during, _, seconds = _during(client, path)
                computations.append(seconds)
                warm = []
                for _ in range(args.rounds):
                    status, _, body, took = client.get(path)
                    warm.append(took)
                if name == "overview":
                    svg = re.search(r"<svg.*?</svg>", body, re.S)
                    elements = element_count(svg.group(0)) if svg else 0
                worst = max(worst, first, *during, *warm)
                rows.append((name, first, updating, during, statistics.median(warm), max(warm), len(body) / 1024))
            print()
            print("| page | first after a change s | (answered while updating) | during the computation: worst s "
                  "(fetches) | warm median s | warm worst s | KiB |")
            print("|---|---:|---|---:|---:|---:|---:|")
            for name, first, updating, during, med, top, kib in rows:
                print(f"| {name} | {first:.3f} | {'yes' if updating else 'no'} | "
                      f"{max(during, default=0):.3f} ({len(during)}) | {med:.3f} | {top:.3f} | {kib:.0f} |")
            print()
            print(f"background computation per version: median {statistics.median(computations):.2f} s, worst "
                  f"{max(computations):.2f} s over {len(computations)} versions (index, {args.clusters} traces, "
                  f"picture, rules, rendering; {'in a thread' if args.in_thread else 'in a child process'})")
            print(f"picture: {elements} SVG elements")
            rss, peak = _memory()
            child = _computation_child()
            c_rss, c_peak = _memory(child) if child else (0.0, 0.0)
            print(f"memory: this process (the server, seeding and client) RSS {rss:.0f} MiB, peak {peak:.0f} MiB; "
                  + (f"the computation's child process RSS {c_rss:.0f} MiB while waiting, peak {c_peak:.0f} MiB"
                     if child else "no child process"))
            print()
            print(f"| check | measured | target | verdict |\n|---|---:|---:|---|\n"
                  f"| slowest page response (first, during or warm) | {worst:.3f} s | < {TARGET_S:.0f} s | "
                  f"{'ok' if worst < TARGET_S else 'MISSED'} |\n"
                  f"| picture size | {elements} elements | < {TARGET_ELEMENTS} | "
                  f"{'ok' if elements < TARGET_ELEMENTS else 'MISSED'} |")
            print(f"\nload average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
            client.conn.close()
        finally:
            arm.close()
            svc.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
