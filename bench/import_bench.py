"""``arclink import azure`` against the emulator: a subscription of 10,000 clusters over 1,000 sites.

    python bench/import_bench.py                       # 10,000 clusters, 1,000 sites
    python bench/import_bench.py --clusters 1000 --workers 16

The topology is bench/gen_topology.py's (one hub, the scope and its private endpoint, the three
Arc zones with their zone-group records, a resolver, 1,000 sites), plus a private zone holding one
A record per site (``stores.corp.example``, linked to the hub): 1,000 sites' worth of records. The
emulator is seeded with it directly (``serve --topology``), then ``arclink import azure --emulator``
runs in a subprocess, the way a user runs it. Printed: seconds, the requests made (retries
included), and in the same run the request count an importer issuing one GET per resource would
need; then a check that the import means the seeded topology (``arclink diff``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_topology import topology  # noqa: E402


def with_store_records(doc: dict, sites: int) -> dict:
    doc["privateDnsZones"].append({
        "name": "stores.corp.example", "virtualNetworkLinks": [{"virtualNetwork": "vnet-hub"}],
        "records": [{"name": f"dns-{i:04d}", "ttl": 3600, "addresses": [f"10.{128 + i // 256}.{i % 256}.53"]}
                    for i in range(sites)]})
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clusters", type=int, default=10_000)
    ap.add_argument("--sites", type=int, default=1_000)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args(argv)

    import json

    from arclink.stack import start_services

    doc = with_store_records(topology(args.clusters, args.sites), args.sites)
    with tempfile.TemporaryDirectory(prefix="arclink-import-bench-") as tmp:
        topo_file = Path(tmp) / "topology.json"
        topo_file.write_text(json.dumps(doc))
        t0 = time.perf_counter()
        svc = start_services(Path(tmp) / "state", in_memory=True, topology=str(topo_file))
        seeded = time.perf_counter() - t0
        try:
            out = Path(tmp) / "imported.yaml"
            t1 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "arclink", "import", "azure", "--emulator",
                                str(svc.state_dir / "endpoints.json"), "-o", str(out), "--workers", str(args.workers)],
                               capture_output=True, text=True)
            seconds = time.perf_counter() - t1
            if r.returncode != 0:
                print(r.stderr, file=sys.stderr)
                return 1
            m = re.search(r"read (\d+) resources of (\d+) types in (\d+) requests \((\d+) throttled and retried; "
                          r"one GET per resource would take (\d+)\)", r.stderr)
            if not m:
                print(f"unexpected summary: {r.stderr}", file=sys.stderr)
                return 1
            resources, _, requests, throttled, one_get = (int(g) for g in m.groups())
            d = subprocess.run([sys.executable, "-m", "arclink", "diff", str(topo_file), str(out)],
                               capture_output=True, text=True)
            size = out.stat().st_size
        finally:
            svc.stop()
    print(f"## arclink import azure --emulator: {args.clusters:,} clusters, {args.sites:,} sites, "
          f"{args.workers} workers")
    print()
    print("| resources read | seconds | requests made | one GET per resource | ratio | seed s | file | diff |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {resources:,} | {seconds:.1f} | {requests:,} ({throttled} throttled) | {one_get:,} | "
          f"{one_get / max(requests, 1):.1f}x fewer | {seeded:.1f} | {size / 1e6:.1f} MB | "
          f"{'none' if d.returncode == 0 else 'DIFFERS'} |")
    if d.returncode != 0:
        print(d.stdout[:2000], file=sys.stderr)
    return 0 if d.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
