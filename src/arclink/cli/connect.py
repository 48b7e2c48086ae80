"""``arclink connect``: onboard a cluster like ``az connectedk8s connect``, then start its agent."""

from __future__ import annotations

import argparse
import json
import sys

from arclink.cli._onboarding import (add_emulator_flag, add_lab_flag, add_subscription_flag, arm_client, endpoints,
                                    endpoints_path, lab_site, make_agent, three_state, warn)
from arclink.cli.main import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-g", "--resource-group", required=True, help="name of the resource group")
    p.add_argument("-n", "--name", required=True, help="name of the connected cluster")
    p.add_argument("-l", "--location", required=True, help="region of the connected cluster resource")
    g = p.add_argument_group("PrivateLink")
    g.add_argument("--enable-private-link", type=three_state, default=None, metavar="{false,true}",
                   help="Flag to enable/disable private link support on a connected cluster resource. "
                        "Allowed values: false, true.")
    g.add_argument("--private-link-scope-resource-id", "--pls-arm-id", dest="private_link_scope_resource_id",
                   help="ARM resource id of the private link scope resource to which this connected cluster is "
                        "associated.")
    p.add_argument("--custom-locations-oid", help="object id of the custom locations app (ignored with private link)")
    p.add_argument("--site", required=True, help="the modelled on-premises site the cluster runs in")
    p.add_argument("--address", help="the cluster's node address in the site (default: the first one no cluster uses)")
    p.add_argument("-y", "--yes", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--no-agent", action="store_true", help="create the resource only; start the agent later with "
                                                           "'arclink agent run'")
    p.add_argument("--follow", action="store_true", help="keep the agent running (heartbeats every 5 s) until "
                                                         "Ctrl-C, like 'arclink agent run'")
    p.add_argument("--key-type", default="rsa4096", choices=("rsa4096", "rsa2048", "ec"),
                   help="the onboarding key (the CLI makes RSA-4096)")
    p.add_argument("--output", "-o", choices=("text", "json"), default="text")
    add_subscription_flag(p)
    add_emulator_flag(p)
    add_lab_flag(p)


def run(args) -> int:
    from arclink.agent.arm_client import API, ArmRequestError, EmulatorUnavailable
    from arclink.agent.onboard import ConnectRequest, OnboardingError, confirm, connect, validate_flags

    req = ConnectRequest(args.resource_group, args.name, args.location, site=args.site, address=args.address,
                         enable_private_link=args.enable_private_link,
                         private_link_scope_resource_id=args.private_link_scope_resource_id,
                         custom_locations_oid=args.custom_locations_oid, yes=args.yes, key_kind=args.key_type)
    try:
        # the argument validator and the prompt come before anything touches Azure
        validate_flags(req)
        confirm(req, warn=warn)
        req.yes = True
        site = lab_site(args.lab, args.site)
        ep = endpoints(endpoints_path(args))
        arm = arm_client(ep, args.subscription, site, args.address)
        onboarded = connect(arm, req, ep.state_dir, warn=warn)
    except OnboardingError as exc:
        raise UserError(str(exc) + (f"\n{exc.recommendation}" if exc.recommendation else ""), exc.code) from None
    except ArmRequestError as exc:
        raise UserError(f"ARM refused the request: {exc}", 1) from None
    except EmulatorUnavailable as exc:
        raise UserError(str(exc), 2) from None
    print(f"Created connected cluster {onboarded.id}; private key {onboarded.key_file} (mode 0600).",
          file=sys.stderr)
    if args.no_agent:
        _print(args, onboarded.cluster, None)
        return 0
    if not onboarded.address:
        raise UserError("the cluster has no modelled node address: re-run with --address IP (an address in site "
                        f"'{args.site}').", 2)
    report = agent_once(ep, onboarded, args.name, args.location, site)
    try:
        cluster = arm.get(onboarded.cluster["id"], API["Microsoft.Kubernetes"])
    except (ArmRequestError, EmulatorUnavailable):
        cluster = onboarded.cluster
    _print(args, cluster, report)
    if not report.admitted:
        err = report.last_error
        print(f"The agent could not connect: {err.code}: {err.reason}", file=sys.stderr)
        if not args.follow:
            return 1
    if args.follow:
        return follow(ep, onboarded, args.name, args.location, site)
    return 0


def follow(ep, onboarded, name: str, location: str, site=None) -> int:
    """The agent keeps running, reporting changes, until SIGINT/SIGTERM."""
    import asyncio
    import signal

    from arclink import pki

    agent = make_agent(ep, name, pki.load_private_key(onboarded.key_file), onboarded.address, location, site=site)

    def show(rep):
        if rep.status == "Connected":
            print(f"{name}: Connected via {rep.config.path} endpoint {rep.config.address}", flush=True)
        else:
            print(f"{name}: {rep.status}: {rep.last_error.code}: {rep.last_error.reason}", flush=True)

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await agent.run_forever(stop, on_change=show)

    print(f"{name}: agent running; Ctrl-C stops it", file=sys.stderr, flush=True)
    rep = asyncio.run(main())
    return 0 if rep.status == "Connected" else 1


def agent_once(ep, onboarded, name: str, location: str, site=None):
    import asyncio

    from arclink import pki

    agent = make_agent(ep, name, pki.load_private_key(onboarded.key_file), onboarded.address, location, site=site)
    return asyncio.run(agent.run_once())


def _print(args, cluster: dict, report) -> None:
    if args.output == "json":
        out = dict(cluster)
        if report is not None:
            out["agent"] = report.to_dict()
        print(json.dumps(out, indent=2))
        return
    props = cluster.get("properties") or {}
    print(f"name: {cluster.get('name')}  location: {cluster.get('location')}  "
          f"privateLinkState: {props.get('privateLinkState', 'Disabled')}  "
          f"provisioningState: {props.get('provisioningState')}")
    if report is not None:
        c = report.config or report.discovery
        where = f" via {c.path} endpoint {c.address} ({c.fqdn})" if c and c.address else ""
        print(f"agent: {report.status}{where}")
        if report.last_error:
            print(f"  {report.last_error.code}: {report.last_error.reason}")
    print(f"connectivityStatus: {props.get('connectivityStatus', 'Connecting')}")
