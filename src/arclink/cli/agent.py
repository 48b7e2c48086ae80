"""``arclink agent run``: the Arc agent of one onboarded cluster, heartbeating until stopped."""

from __future__ import annotations

import argparse
import json
import sys

from arclink.cli._onboarding import (add_emulator_flag, add_lab_flag, add_subscription_flag, arm_client, endpoints,
                                    endpoints_path, lab_site, make_agent)
from arclink.cli.main import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = sub.add_parser("run", help="run the agent of an onboarded cluster")
    r.add_argument("--cluster", "-n", required=True, help="the connected cluster's name")
    r.add_argument("--resource-group", "-g", help="its resource group (default: found by name)")
    r.add_argument("--heartbeat", type=float, default=5.0, help="seconds between heartbeats (default 5)")
    r.add_argument("--once", action="store_true", help="connect, heartbeat once, pull configuration, exit")
    r.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    r.add_argument("--output", "-o", choices=("text", "json"), default="text")
    add_subscription_flag(r)
    add_emulator_flag(r)
    add_lab_flag(r)


def find_cluster(arm, name: str, resource_group: str | None) -> dict:
    from arclink.agent.arm_client import API, ArmRequestError
    from arclink.agent.onboard import cluster_path

    if resource_group:
        try:
            return arm.get(cluster_path(arm.subscription, resource_group, name), API["Microsoft.Kubernetes"])
        except ArmRequestError as exc:
            if exc.status == 404:
                raise UserError(f"no connected cluster '{name}' in resource group '{resource_group}'; onboard it "
                                "with 'arclink connect'.", 2) from None
            raise
    found = arm.get(f"/subscriptions/{arm.subscription}/providers/Microsoft.Kubernetes/connectedClusters",
                    API["Microsoft.Kubernetes"]).get("value", [])
    hits = [c for c in found if (c.get("name") or "").lower() == name.lower()]
    if not hits:
        raise UserError(f"no connected cluster named '{name}'; onboard it with 'arclink connect'.", 2)
    if len(hits) > 1:
        raise UserError(f"several clusters are named '{name}'; say which with --resource-group.", 2)
    return hits[0]


def lab_placement(args, ep):
    """In a lab the agent starts where its cluster runs: the site and node address saved when it was
    onboarded, so that even its first ARM call leaves from that address through the site's network."""
    from arclink.agent.onboard import agent_configs

    found = agent_configs(ep.state_dir, args.subscription or ep.subscription, args.cluster, args.resource_group)
    if not found:
        raise UserError(f"cluster '{args.cluster}' was not onboarded in lab '{args.lab}'; onboard it with "
                        f"'arclink connect ... --site SITE --lab {args.lab}'.", 2)
    if len(found) > 1:
        raise UserError(f"several clusters are named '{args.cluster}'; say which with --resource-group.", 2)
    if not found[0].get("address"):
        raise UserError(f"cluster '{args.cluster}' has no node address; re-run 'arclink connect' with --address.", 2)
    return lab_site(args.lab, found[0].get("site")), found[0]["address"]


def run(args) -> int:
    import asyncio
    import signal

    from arclink import pki
    from arclink.agent.arm_client import ArmRequestError, EmulatorUnavailable
    from arclink.agent.onboard import key_path
    from arclink.model.index import parse_arm_id

    if args.heartbeat <= 0 or (args.duration is not None and args.duration <= 0):
        raise UserError("--heartbeat and --duration must be positive numbers of seconds.", 2)
    ep = endpoints(endpoints_path(args))
    site, source = lab_placement(args, ep) if args.lab else (None, None)
    arm = arm_client(ep, args.subscription, site, source)
    try:
        cluster = find_cluster(arm, args.cluster, args.resource_group)
    except (ArmRequestError, EmulatorUnavailable) as exc:
        raise UserError(str(exc), 2) from None
    parts = parse_arm_id(cluster["id"]) or {}
    kp = key_path(ep.state_dir, parts.get("sub", arm.subscription), parts.get("rg", ""), cluster["name"])
    if not kp.exists():
        raise UserError(f"no onboarding key for '{cluster['name']}' at {kp}; onboard it with 'arclink connect'.", 2)
    address = (cluster.get("tags") or {}).get("arclink-address")
    if not address:
        raise UserError(f"cluster '{cluster['name']}' has no 'arclink-address' tag; re-run 'arclink connect' "
                        "with --address.", 2)
    if site is None:
        site = lab_site(args.lab, (cluster.get("tags") or {}).get("arclink-site"))
    agent = make_agent(ep, cluster["name"], pki.load_private_key(kp), address, cluster.get("location", ""),
                       heartbeat_interval=args.heartbeat, site=site)

    def show(rep):
        if args.output == "json":
            print(json.dumps(rep.to_dict()), flush=True)
        elif rep.status == "Connected":
            c = rep.config
            print(f"{rep.cluster}: Connected via {c.path} endpoint {c.address} ({c.fqdn})", flush=True)
        else:
            e = rep.last_error
            print(f"{rep.cluster}: {rep.status}: {e.code}: {e.reason}", flush=True)

    async def main():
        if args.once:
            return await agent.run_once()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if args.duration:
            loop.call_later(args.duration, stop.set)
        return await agent.run_forever(stop, on_change=show)

    rep = asyncio.run(main())
    if args.once:
        show(rep)
    print(f"{rep.cluster}: {rep.heartbeats} heartbeats sent", file=sys.stderr)
    return 0 if rep.status == "Connected" else 1
