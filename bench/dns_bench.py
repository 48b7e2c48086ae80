#!/usr/bin/env python3
"""dnsperf against arclink's DNS server and against dnsmasq serving the same records, in one run.

    python bench/dns_bench.py [--topology examples/good.yaml] [--seconds 5] [--rounds 3] [--client ADDRESS]

Views are on: every query carries an EDNS Client Subnet option for ``--client`` (by default
the first cluster's node address), so arclink answers as that machine's DNS chain would.
dnsmasq gets the very answers arclink gives for that client as static records
(--cname and --host-record) and the same query file, so both serve the same data.
Prints a markdown table with queries per second, lost queries and the ratio.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import dns.edns  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402

from arclink.model import catalogue as cat  # noqa: E402
from arclink.model.loader import load  # noqa: E402
from arclink.model.resolve import resolve, view_for  # noqa: E402

TARGET_RATIO = 0.6


def query_names(index) -> list[str]:
    names = list(cat.SEED_CHECK_NAMES)
    for rec in cat.arc_records(index.default_location):
        if rec.fqdn not in names:
            names.append(rec.fqdn)
    names += [ep.name for ep in cat.public_endpoints(index.default_location)]
    return names


def default_client(index) -> str:
    for cluster in index.clusters.values():
        if cluster.address:
            return cluster.address
    raise SystemExit("the topology has no cluster with an address; pass --client ADDRESS")


def ecs_hex(address: str) -> str:
    ip = ipaddress.ip_address(address)
    family = 1 if ip.version == 4 else 2
    return f"{family:04x}{ip.max_prefixlen:02x}00{ip.packed.hex()}"


def dnsmasq_records(index, view, names) -> list[str]:
    """The same answers as static dnsmasq records: CNAMEs and host records."""
    args, hosts = [], {}
    for name in names:
        res = resolve(index, view, name, "A")
        for owner, rtype, _ttl, data in res.answers:
            if rtype == "CNAME":
                args.append(f"--cname={owner},{data}")
            elif rtype == "A":
                hosts.setdefault(owner, []).append(data)
    args += [f"--host-record={owner},{','.join(addrs)}" for owner, addrs in hosts.items()]
    return list(dict.fromkeys(args))


def free_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as t:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            try:
                t.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port for UDP and TCP")


def wait_answering(port: int, name: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port, timeout=0.5)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers on 127.0.0.1 port {port}")


def start_arclink(topology: str):
    proc = subprocess.Popen([sys.executable, "-m", "arclink", "dns", "serve", topology, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    line = proc.stdout.readline()
    m = re.search(r"port (\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"arclink dns serve did not start: {line.strip()}")
    return proc, int(m.group(1))


def start_dnsmasq(records: list[str]):
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    port = free_port()
    proc = subprocess.Popen([exe, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
                             "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file", "--cache-size=1000",
                             *records], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def same_answers(port_a: int, port_b: int, names, client: str) -> list[str]:
    """Names whose A answers differ between the two servers (should be none)."""
    diff = []
    for name in names:
        q = dns.message.make_query(name, "A", use_edns=0, options=[dns.edns.ECSOption(client, 32)])
        a = dns.query.udp(q, "127.0.0.1", port=port_a, timeout=2)
        b = dns.query.udp(q, "127.0.0.1", port=port_b, timeout=2)
        if _records(a) != _records(b):
            diff.append(name)
    return diff


def _records(response) -> set:
    # TTLs differ by design (dnsmasq serves local records with --local-ttl); the data must not.
    return {(str(rrset.name).lower(), rrset.rdtype, rr.to_text().lower()) for rrset in response.answer for rr in rrset}


def dnsperf(port: int, qfile: str, seconds: int, client: str, clients: int, outstanding: int) -> dict:
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile, "-l", str(seconds), "-c", str(clients),
           "-q", str(outstanding), "-T", "1", "-t", "2", "-e", "-E", f"8:{ecs_hex(client)}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout

    def grab(label, cast=float):
        m = re.search(rf"{label}:\s+([\d.]+)", out)
        return cast(m.group(1)) if m else 0

    return {"sent": grab("Queries sent", int), "completed": grab("Queries completed", int),
            "lost": grab("Queries lost", int), "qps": grab("Queries per second"),
            "latency_ms": grab("Average Latency \\(s\\)") * 1000}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topology", default=str(ROOT / "examples" / "good.yaml"))
    ap.add_argument("--seconds", type=int, default=5, help="dnsperf run length per server")
    ap.add_argument("--client", help="the client address the ECS option carries (default: first cluster's)")
    ap.add_argument("--clients", type=int, default=4, help="dnsperf -c")
    ap.add_argument("--outstanding", type=int, default=100, help="dnsperf -q")
    ap.add_argument("--rounds", type=int, default=3, help="alternate the two servers this many times; best qps counts")
    args = ap.parse_args()
    for tool in ("dnsperf", "dnsmasq"):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            print(f"{tool} is not installed: apt-get install {tool}", file=sys.stderr)
            return 2

    index = load(args.topology)
    client = args.client or default_client(index)
    view = view_for(index, client)
    names = query_names(index)
    with tempfile.NamedTemporaryFile("w", suffix=".queries", delete=False) as fh:
        for name in names:
            fh.write(f"{name} A\n{name} AAAA\n")
        qfile = fh.name

    arclink, arclink_port = start_arclink(args.topology)
    masq, masq_port = start_dnsmasq(dnsmasq_records(index, view, names))
    results = {"arclink": [], "dnsmasq": []}
    try:
        wait_answering(arclink_port, names[0])
        wait_answering(masq_port, names[0])
        differ = same_answers(arclink_port, masq_port, names, client)
        if differ:
            print(f"warning: the servers answer these differently: {', '.join(differ)}", file=sys.stderr)
        for _ in range(args.rounds):
            results["dnsmasq"].append(dnsperf(masq_port, qfile, args.seconds, client, args.clients, args.outstanding))
            results["arclink"].append(dnsperf(arclink_port, qfile, args.seconds, client, args.clients,
                                              args.outstanding))
    finally:
        stop(arclink)
        stop(masq)
        Path(qfile).unlink(missing_ok=True)

    best = {k: max(v, key=lambda r: r["qps"]) for k, v in results.items()}
    ratio = best["arclink"]["qps"] / best["dnsmasq"]["qps"] if best["dnsmasq"]["qps"] else 0.0
    print(f"dnsperf, {args.seconds} s per server, {len(names) * 2} distinct queries (A and AAAA), "
          f"ECS {client}/32 ({view.describe()}), -c {args.clients} -q {args.outstanding}\n")
    print("| server | queries/s | completed | lost | avg latency (ms) | vs dnsmasq |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in ("dnsmasq", "arclink"):
        r = best[name]
        rel = r["qps"] / best["dnsmasq"]["qps"] if best["dnsmasq"]["qps"] else 0.0
        print(f"| {name} | {r['qps']:,.0f} | {r['completed']:,} | {r['lost']:,} | {r['latency_ms']:.3f} | {rel:.2f}x |")
    lost = sum(r["lost"] for r in results["arclink"])
    ok = ratio >= TARGET_RATIO and lost == 0
    print(f"\nratio arclink/dnsmasq: {ratio:.2f} (target >= {TARGET_RATIO}, 0 lost): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
