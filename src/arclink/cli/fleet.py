"""``arclink fleet --clusters N --sites M``: onboard N simulated clusters and run their agents in one process.

Starts an in-memory emulator with a correct hub and M store sites (``arclink.agent.fleet``),
onboards every cluster through the ARM API (key pair + connectedCluster PUT, as
``arclink connect`` does) and runs all agents in one event loop, with progress bars.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clusters", type=int, default=100, help="how many clusters (default 100)")
    p.add_argument("--sites", type=int, default=10, help="how many store sites (default 10, at most 1024)")
    p.add_argument("--duration", type=float, default=0.0,
                   help="keep the agents heartbeating for this many seconds (default: connect once)")
    p.add_argument("--heartbeat", type=float, default=5.0, help="seconds between heartbeats (default 5)")
    p.add_argument("--concurrency", type=int, default=100, help="agent handshakes in flight (default 100)")
    p.add_argument("--workers", type=int, default=8, help="parallel onboarding requests (default 8)")
    p.add_argument("--output", "-o", choices=("text", "json"), default="text")


def run(args) -> int:
    from arclink.cli.main import UserError

    if args.clusters < 1:
        raise UserError("--clusters must be at least 1.", 2)
    from arclink.agent.fleet import MAX_SITES

    if not 1 <= args.sites <= MAX_SITES:
        raise UserError(f"--sites must be between 1 and {MAX_SITES}.", 2)
    if args.heartbeat <= 0 or args.duration < 0 or args.concurrency < 1 or args.workers < 1:
        raise UserError("--heartbeat must be positive, --duration not negative, --concurrency and --workers at "
                        "least 1.", 2)
    if args.clusters > args.sites * 1000:
        raise UserError(f"{args.clusters} clusters do not fit in {args.sites} sites (about 1,000 per site); "
                        "raise --sites.", 2)
    import resource
    from concurrent.futures import ThreadPoolExecutor

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from arclink import pki
    from arclink.agent.arm_client import ArmClient, Endpoints
    from arclink.agent.fleet import LOCATION, SUBSCRIPTION, fleet_cluster, fleet_topology, run_agents
    from arclink.agent.onboard import ConnectRequest, put_cluster
    from arclink.agent.resolver import DnsResolver
    from arclink.agent.runtime import Agent
    from arclink.stack import start_services
    from arclink.loopthread import new_event_loop

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    console = Console(stderr=args.output == "json")
    with tempfile.TemporaryDirectory(prefix="arclink-fleet-") as state:
        svc = start_services(state, in_memory=True, host="127.0.0.1", arm_port=0, dns_port=0, gateway_port=0,
                             topology=fleet_topology(args.sites))
        try:
            ep = Endpoints.from_dict(svc.endpoints, state)
            ep.subscription = SUBSCRIPTION  # the fleet's resources live in the topology's subscription
            arm = ArmClient(ep)
            clusters = [fleet_cluster(i, args.sites) for i in range(args.clusters)]
            keys = [None] * args.clusters

            def onboard(i: int) -> None:
                c = clusters[i]
                keys[i] = pki.new_agent_key("ec")
                req = ConnectRequest(c.resource_group, c.name, LOCATION, site=c.site, address=c.address,
                                     enable_private_link=True,
                                     private_link_scope_resource_id=c.private_link_scope_resource_id, yes=True)
                put_cluster(arm, req, ep.state_dir, key=keys[i])

            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            with Progress(*columns, console=console) as progress:
                t0 = time.monotonic()
                task = progress.add_task("onboarding", total=args.clusters)
                with ThreadPoolExecutor(args.workers) as pool:
                    for _ in pool.map(onboard, range(args.clusters)):
                        progress.advance(task)
                onboard_s = time.monotonic() - t0
                resolver = DnsResolver(*ep.dns)
                agents = [Agent(c.name, key, c.address, LOCATION, gateway=ep.gateway, ca_cert=ep.ca_cert,
                                resolver=resolver, heartbeat_interval=args.heartbeat, timeout=60)
                          for c, key in zip(clusters, keys)]
                task = progress.add_task("agents connecting", total=args.clusters)
                loop = new_event_loop()
                try:
                    res = loop.run_until_complete(run_agents(agents, concurrency=args.concurrency,
                                                             duration=args.duration,
                                                             progress=lambda n: progress.advance(task, n)))
                finally:
                    loop.close()
        finally:
            arm.close()
            svc.stop()
    out = {"clusters": args.clusters, "sites": args.sites, "onboardingSeconds": round(onboard_s, 2),
           "agentSeconds": round(res.seconds, 2), "connected": res.connected, "refused": res.refused,
           "heartbeats": res.heartbeats}
    if args.output == "json":
        print(json.dumps(out, indent=2))
    else:
        t = Table(title=f"fleet: {args.clusters} clusters in {args.sites} sites")
        t.add_column("measure")
        t.add_column("value", justify="right")
        t.add_row("onboarded (connectedCluster PUT)", f"{args.clusters} in {onboard_s:.1f} s")
        t.add_row("connected", str(res.connected))
        for code, n in sorted(res.refused.items()):
            t.add_row(f"refused: {code}", str(n))
        t.add_row("heartbeats", str(res.heartbeats))
        t.add_row("agents' time", f"{res.seconds:.1f} s")
        console.print(t)
    return 0 if res.connected == args.clusters else 1
