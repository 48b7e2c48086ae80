"""The portal with 10,000 clusters at 1,000 sites: every page's response time and the picture's size.

A benchmark, not a timed test: it starts the emulator seeded with a fleet (one hub, the sites
forwarding to its resolver, every cluster associated with the scope), signs in with the static
token and fetches each page a few times over HTTPS, printing the median and worst time per page
and how many SVG elements the overview's picture has.

    PYTHONPATH=src python bench/portal_bench.py [--clusters 10000] [--sites 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import re
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clusters", type=int, default=10_000)
    ap.add_argument("--sites", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    from arclink.agent import fleet
    from arclink.portal.svg import element_count
    from arclink.stack import start_services

    topo = _varied(fleet.fleet_topology(args.sites, [fleet.fleet_cluster(i, args.sites) for i in range(args.clusters)]))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as state:
        svc = start_services(state, in_memory=True, topology=topo)
        try:
            print(f"seeded {args.clusters} clusters at {args.sites} sites in {time.perf_counter() - t0:.1f} s")
            u = urlsplit(svc.endpoints["arm"])
            ctx = ssl.create_default_context(cafile=svc.endpoints["ca_cert"])
            conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=600)

            def get(path: str, cookie: str = "", form: dict | None = None) -> tuple[int, dict, str]:
                headers = {"Cookie": cookie} if cookie else {}
                body = None
                if form is not None:
                    body, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
                conn.request("POST" if form is not None else "GET", path, body=body, headers=headers)
                r = conn.getresponse()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()

            _, headers, _ = get("/portal/signin/token", form={"token": svc.endpoints["token"], "next": "/portal/"})
            cookie = headers["set-cookie"].split(";", 1)[0]
            scope = svc.live.index.scopes[next(iter(svc.live.index.scopes))]
            endpoint = next(iter(svc.live.index.endpoints.values()))
            cluster = next(iter(svc.live.index.clusters.values()))
            pages = {"overview": "/portal/", "scopes": "/portal/scopes", "scope": f"/portal/scope?id={quote(scope.id)}",
                     "endpoint": f"/portal/endpoint?id={quote(endpoint.id)}", "clusters": "/portal/clusters",
                     "cluster": f"/portal/cluster?id={quote(cluster.id)}", "findings": "/portal/findings",
                     "rule": "/portal/rules/APL001"}
            print(f"{'page':<10} {'first s':>8} {'median s':>9} {'worst s':>8} {'KiB':>7}")
            for name, path in pages.items():
                times, size = [], 0
                for _ in range(args.rounds + 1):
                    start = time.perf_counter()
                    status, _, body = get(path, cookie)
                    times.append(time.perf_counter() - start)
                    size = len(body)
                    if status != 200:
                        print(f"{name}: HTTP {status}", file=sys.stderr)
                        return 1
                    if name == "overview":
                        svg = re.search(r"<svg.*?</svg>", body, re.S)
                        elements = element_count(svg.group(0)) if svg else 0
                rest = times[1:] or times
                print(f"{name:<10} {times[0]:>8.3f} {statistics.median(rest):>9.3f} {max(rest):>8.3f} {size / 1024:>7.0f}")
            print(f"picture: {elements} SVG elements")
            conn.close()
        finally:
            svc.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
