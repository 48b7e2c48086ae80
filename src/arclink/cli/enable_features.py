"""``arclink enable-features``: like ``az connectedk8s enable-features``, refused for a private link cluster."""

from __future__ import annotations

import argparse

from arclink.cli._onboarding import add_emulator_flag, add_subscription_flag, arm_client, endpoints
from arclink.cli.main import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-g", "--resource-group", required=True)
    p.add_argument("-n", "--name", required=True)
    p.add_argument("--features", nargs="+", required=True, choices=("cluster-connect", "custom-locations", "azure-rbac"))
    add_subscription_flag(p)
    add_emulator_flag(p)


def run(args) -> int:
    from arclink.agent.arm_client import ArmRequestError, EmulatorUnavailable
    from arclink.agent.onboard import OnboardingError, enable_features

    arm = arm_client(endpoints(args.emulator), args.subscription)
    try:
        enable_features(arm, args.resource_group, args.name, args.features)
    except OnboardingError as exc:
        raise UserError(str(exc), exc.code) from None
    except ArmRequestError as exc:
        raise UserError(f"ARM refused the request: {exc}", 1) from None
    except EmulatorUnavailable as exc:
        raise UserError(str(exc), 2) from None
    print(f"Enabled {', '.join(args.features)} on {args.name}.")
    return 0
