"""Shared pieces of connect, agent, enable-features, fleet: flags, emulator endpoints, agent start."""

from __future__ import annotations

import argparse
import os
import sys

from arclink.cli.main import UserError

DEFAULT_ENDPOINTS = ".arclink/endpoints.json"


def three_state(value: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "yes", "1"):
        return True
    if v in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"invalid value '{value}'. Allowed values: false, true.")


def add_emulator_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--emulator", metavar="ENDPOINTS_JSON",
                        default=os.environ.get("ARCLINK_EMULATOR", DEFAULT_ENDPOINTS),
                        help="the endpoints.json 'arclink serve' wrote (default: $ARCLINK_EMULATOR or "
                             f"{DEFAULT_ENDPOINTS})")


def add_lab_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lab", metavar="NAME", help="run the agent in the running 'arclink lab' NAME: inside its "
                                                      "site's network namespace, from the cluster's own address, "
                                                      "through the site's DNS, routes and firewall (root)")


def lab_site(lab: str | None, site: str | None):
    """The lab's site the agent runs in (``arclink.lab.client.SiteClient``), or None outside a lab."""
    if not lab:
        return None
    from arclink.lab.runtime import LabError

    if not site:
        raise UserError("the cluster names no site ('arclink-site' tag); re-run 'arclink connect' with --site.", 2)
    try:
        from arclink.lab.client import site_client

        return site_client(lab, site)
    except LabError as exc:
        raise UserError(str(exc), exc.code) from None


def endpoints_path(args) -> str:
    """The lab's emulator endpoints.json with --lab, else --emulator."""
    if getattr(args, "lab", None):
        from arclink.lab.runtime import lab_dir, read_record

        if read_record(args.lab) is None:
            raise UserError(f"no lab named '{args.lab}' is up; start it with 'arclink lab up TOPOLOGY --name "
                            f"{args.lab}'.", 2)
        return str(lab_dir(args.lab) / "emulator" / "endpoints.json")
    return args.emulator


def endpoints(path: str):
    from arclink.agent.arm_client import EmulatorUnavailable, Endpoints

    try:
        return Endpoints.load(path)
    except EmulatorUnavailable as exc:
        raise UserError(str(exc), 2) from None


def add_subscription_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subscription", help="subscription id (default: the emulator's default subscription)")


def arm_client(ep, subscription: str | None = None, site=None, source: str | None = None):
    """ARM's client; in a lab ``site`` (a SiteClient) it reaches ARM by its public name from ``source``."""
    import functools

    from arclink.agent.arm_client import ArmClient, EmulatorUnavailable

    if subscription:
        ep.subscription = subscription
    try:
        if site is not None and site.arm_url:
            ep.arm = site.arm_url
            return ArmClient(ep, dial=functools.partial(site.dial, source=source))
        return ArmClient(ep)
    except EmulatorUnavailable as exc:
        raise UserError(str(exc), 2) from None


def warn(message: str) -> None:
    print(f"WARNING: {message}", file=sys.stderr)


def make_agent(ep, name: str, key, address: str, location: str, heartbeat_interval: float = 5.0, site=None):
    """The agent; with ``site`` (a lab's SiteClient) it runs in the lab: the site's DNS, the real addresses."""
    from arclink.agent.resolver import DnsResolver, SiteResolver
    from arclink.agent.runtime import Agent

    if site is not None:
        return Agent(name, key, address, location, gateway=None, ca_cert=ep.ca_cert,
                     resolver=SiteResolver(site.dns_server, site.open_socket), heartbeat_interval=heartbeat_interval,
                     open_socket=site.open_socket)
    return Agent(name, key, address, location, gateway=ep.gateway, ca_cert=ep.ca_cert,
                 resolver=DnsResolver(*ep.dns), heartbeat_interval=heartbeat_interval)
