"""``arclink apply FILE --emulator endpoints.json``: create a topology through the emulator's ARM API.

The steps are the ordered plan the az script prints (``arclink export azcli``), sent as ARM
requests over HTTPS with the emulator's CA and token; sites and DNS forwarders go to the
emulator's control API. Each cluster gets an agent key pair, stored where ``arclink
connect`` keeps it, so ``arclink agent`` can run the cluster afterwards.
"""

from __future__ import annotations

import sys

from arclink.cli.main import UserError


def add_arguments(parser) -> None:
    from arclink.cli._onboarding import add_emulator_flag

    parser.add_argument("file", metavar="FILE", help="topology file (YAML or JSON)")
    add_emulator_flag(parser)
    parser.add_argument("--force", action="store_true", help="apply even when lint finds errors")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument("--output", choices=("text", "json"), default="text",
                        help="json: the steps done, as {number, kind, id, title} objects, instead of progress lines")


class EmulatorTarget:
    """The emulator as an apply target: ARM requests plus the control API (``/_arclink/...``)."""

    def __init__(self, arm, state_dir):
        self.arm = arm
        self.state_dir = state_dir

    def register(self, subscription: str, namespace: str) -> None:
        from arclink.export.plan import API_VERSIONS

        self.arm.post(f"/subscriptions/{subscription}/providers/{namespace}/register",
                      API_VERSIONS["Microsoft.Resources/providers"])

    def get(self, arm_id: str, api_version: str) -> dict | None:
        from arclink.agent.arm_client import ArmRequestError

        try:
            return self.arm.get(arm_id, api_version)
        except ArmRequestError as exc:
            if exc.status == 404:
                return None
            raise

    def put(self, arm_id: str, api_version: str, body: dict) -> dict:
        return self.arm.put(arm_id, api_version, body)

    def control(self, collection: str, name: str, body: dict) -> None:
        self.arm.request("PUT", f"/_arclink/{collection}/{name}", None, body)

    def approve(self, connections_url: str, api_version: str, endpoint_id: str, body: dict) -> None:
        listing = self.arm.get(connections_url, api_version)
        for conn in listing.get("value") or []:
            pe = ((conn.get("properties") or {}).get("privateEndpoint") or {}).get("id") or ""
            if pe.lower() == endpoint_id.lower():
                wanted = body["properties"]["privateLinkServiceConnectionState"]["status"]
                have = ((conn.get("properties") or {}).get("privateLinkServiceConnectionState") or {}).get("status")
                if have != wanted:  # as the az script: answered once
                    self.arm.put(conn["id"], api_version, body)
                return
        raise LookupError(f"scope has no connection from private endpoint {endpoint_id}")

    def agent_key(self, step) -> str:
        from arclink import pki
        from arclink.agent.onboard import key_path

        kp = key_path(self.state_dir, step.subscription, step.resource_group, step.name)
        key = pki.load_private_key(kp) if kp.exists() else pki.new_agent_key()
        pki.save_private_key(kp, key)
        return pki.public_key_b64(key)


def run(args) -> int:
    from arclink.cli._onboarding import arm_client, endpoints
    from arclink.cli._topology import Unusable, lint_errors, load_index, report_unusable

    try:
        ix = load_index(args.file)
    except Unusable as exc:
        return report_unusable(exc)
    lint_errors(ix, args.file, force=args.force, verb="apply")
    ep = endpoints(args.emulator)
    target = EmulatorTarget(arm_client(ep), ep.state_dir)

    from arclink.export.apply import StepFailed, apply_plan
    from arclink.export.plan import build_plan

    from arclink.export.plan import PlanError

    try:
        plan = build_plan(ix)
    except PlanError as exc:
        raise UserError(str(exc), 2) from None

    done = []

    def progress(n: int, total: int, step) -> None:
        done.append({"number": n, "kind": step.kind, "id": step.id, "title": step.title})
        if not args.quiet and args.output == "text":
            print(f"[{n}/{total}] {step.title}", flush=True)

    def skipped(n: int, step, exc: Exception) -> None:
        print(f"WARNING: step {n} ({step.title}) skipped: {exc}", file=sys.stderr, flush=True)

    try:
        count = apply_plan(plan, target, agent_key=target.agent_key, progress=progress, skipped=skipped)
    except StepFailed as exc:
        from arclink.agent.arm_client import EmulatorUnavailable

        if isinstance(exc.cause, EmulatorUnavailable):
            raise UserError(str(exc.cause), 2) from None
        print(f"arclink apply: {exc}", file=sys.stderr)
        return 1
    if args.output == "json":
        import json

        print(json.dumps({"applied": count, "total": len(plan.steps), "arm": ep.arm, "steps": done}, indent=2))
    else:
        print(f"applied {count} of {len(plan.steps)} steps from {args.file} to {ep.arm}")
    return 0
