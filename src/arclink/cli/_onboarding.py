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


def endpoints(path: str):
    from arclink.agent.arm_client import EmulatorUnavailable, Endpoints

    try:
        return Endpoints.load(path)
    except EmulatorUnavailable as exc:
        raise UserError(str(exc), 2) from None


def add_subscription_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subscription", help="subscription id (default: the emulator's default subscription)")


def arm_client(ep, subscription: str | None = None):
    from arclink.agent.arm_client import ArmClient, EmulatorUnavailable

    if subscription:
        ep.subscription = subscription
    try:
        return ArmClient(ep)
    except EmulatorUnavailable as exc:
        raise UserError(str(exc), 2) from None


def warn(message: str) -> None:
    print(f"WARNING: {message}", file=sys.stderr)


def make_agent(ep, name: str, key, address: str, location: str, heartbeat_interval: float = 5.0):
    from arclink.agent.resolver import DnsResolver
    from arclink.agent.runtime import Agent

    return Agent(name, key, address, location, gateway=ep.gateway, ca_cert=ep.ca_cert,
                 resolver=DnsResolver(*ep.dns), heartbeat_interval=heartbeat_interval)
