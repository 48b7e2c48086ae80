"""Lint benchmark: parse plus all rules on 1k, 10k and 100k clusters over 1k sites.

Each run is a fresh ``arclink lint`` subprocess (what a user runs). Reported per size: wall time,
CPU time (user+sys: on a shared machine wall time also counts waiting for a core), and peak
RSS of that child (``os.wait4``'s rusage, i.e. getrusage of the child). The peer each figure is
compared with is named in the table: the 10k run for the growth ratio (target <= 12), and the
targets of the issue (100k under 5 s and under 1 GB; ``arclink --help`` under 0.3 s).

    python bench/lint_bench.py            # 1k, 10k, 100k; topologies cached in $TMPDIR
    python bench/lint_bench.py --sizes 1000,10000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_topology import main as generate  # noqa: E402


def timed(cmd: list[str]) -> tuple[float, float, int, int, dict]:
    """(wall s, cpu s, peak RSS bytes, exit code, phase timings) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()}")
    phases = {}
    for line in err.splitlines():
        if line.startswith("timings:"):
            words = line.split()[1:]
            phases = {k: float(v) for k, v in zip(words[::2], words[1::2])}
    # ru_maxrss is in KiB on Linux
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, proc.returncode, phases


def topology_file(clusters: int, sites: int, fmt: str, cache: Path, broken: int = 0) -> Path:
    path = cache / f"topology-{clusters}c-{sites}s-{broken}b.{fmt}"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        generate(["--clusters", str(clusters), "--sites", str(sites), "--broken-sites", str(broken),
                  "--format", fmt, "-o", str(tmp)])
        tmp.replace(path)
    return path


def best(runs):
    """The least disturbed of several runs (lowest wall time), as benchmarks usually report."""
    return min(runs, key=lambda r: r[0])


def human(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="cluster counts, comma-separated")
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--format", choices=("yaml", "json"), default="yaml", help="topology file format")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; the best is reported")
    ap.add_argument("--broken-sites", type=int, default=10,
                    help="also lint the largest size with this many broken sites (0: skip)")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "arclink-bench"))
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    lint = [sys.executable, "-m", "arclink", "lint"]

    rows = []
    for n in sizes:
        path = topology_file(n, args.sites, args.format, cache)
        wall, cpu, rss, code, phases = best([timed(lint + [str(path), "--format", "json", "--timings"])
                                             for _ in range(args.repeat)])
        rows.append((n, path.stat().st_size, wall, cpu, rss, code, phases))
    if args.broken_sites and sizes:
        n = max(sizes)
        path = topology_file(n, args.sites, args.format, cache, args.broken_sites)
        wall, cpu, rss, code, phases = best([timed(lint + [str(path), "--format", "text", "--timings"])
                                             for _ in range(args.repeat)])
        broken_row = (n, path.stat().st_size, wall, cpu, rss, code, phases)
    else:
        broken_row = None

    helps = []
    script = shutil.which("arclink")
    help_cmd = [script, "--help"] if script else [sys.executable, "-m", "arclink", "--help"]
    for _ in range(5):
        helps.append(timed(help_cmd)[0])
    help_time = statistics.median(helps)

    print(f"## arclink lint: parse + all rules ({args.format}, {args.sites} sites, best of {args.repeat})\n")
    print("| clusters | file | wall s | cpu s | load s | rules s | peak RSS | exit |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, size, wall, cpu, rss, code, ph in rows:
        print(f"| {human(n)} | {size / 1e6:.1f} MB | {wall:.2f} | {cpu:.2f} | {ph.get('load', 0):.2f} | "
              f"{ph.get('rules', 0):.2f} | {rss / 2**20:.0f} MiB | {code} |")
    if broken_row:
        n, size, wall, cpu, rss, code, ph = broken_row
        print(f"| {human(n)}, {args.broken_sites} broken sites (text report) | {size / 1e6:.1f} MB | {wall:.2f} | "
              f"{cpu:.2f} | {ph.get('load', 0):.2f} | {ph.get('rules', 0):.2f} | {rss / 2**20:.0f} MiB | {code} |")
    by = {r[0]: r for r in rows}
    print("\n| check | measured | target | peer | verdict |")
    print("|---|---:|---:|---|---|")
    if 100000 in by and 10000 in by:
        ratio_wall = by[100000][2] / by[10000][2]
        ratio_cpu = by[100000][3] / by[10000][3]
        print(f"| 100k / 10k wall time | {ratio_wall:.1f}x | <= 12x | the 10k run | {'ok' if ratio_wall <= 12 else 'OVER'} |")
        print(f"| 100k / 10k cpu time | {ratio_cpu:.1f}x | <= 12x | the 10k run | {'ok' if ratio_cpu <= 12 else 'OVER'} |")
        r10, r100 = by[10000][6].get("rules"), by[100000][6].get("rules")
        if r10 and r100:
            ratio_rules = r100 / r10
            print(f"| 100k / 10k rule time | {ratio_rules:.1f}x | <= 12x | the 10k run | "
                  f"{'ok' if ratio_rules <= 12 else 'OVER'} |")
    if 100000 in by:
        _, _, wall, cpu, rss, _, _ = by[100000]
        print(f"| 100k wall time | {wall:.2f} s | < 5 s | target | {'ok' if wall < 5 else 'OVER'} |")
        print(f"| 100k cpu time | {cpu:.2f} s | < 5 s | target | {'ok' if cpu < 5 else 'OVER'} |")
        print(f"| 100k peak RSS | {rss / 2**20:.0f} MiB | < 1024 MiB | target | {'ok' if rss < 2**30 else 'OVER'} |")
    print(f"| `arclink --help` (median of 5) | {help_time:.3f} s | < 0.3 s | target | "
          f"{'ok' if help_time < 0.3 else 'OVER'} |")
    print(f"\nload average while measuring: {', '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores (wall time includes waiting for a core; cpu time does not)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
