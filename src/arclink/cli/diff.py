"""``arclink diff A B``: what exists on one side only and what differs, grouped by resource.

Each side is a topology file, ``emulator:ENDPOINTS_JSON`` (arclink's emulator) or ``azure:`` (the
subscriptions ``DefaultAzureCredential`` sees; ``azure:SUBSCRIPTION_ID`` for one). Exit 0 when both
mean the same deployment, 1 when they differ, 2 when a side cannot be read.
"""

from __future__ import annotations

import json
import sys

from arclink.cli.main import UserError


def add_arguments(parser) -> None:
    parser.add_argument("a", metavar="A", help="topology file, emulator:ENDPOINTS_JSON or azure:[SUBSCRIPTION]")
    parser.add_argument("b", metavar="B", help="the same kinds as A")
    parser.add_argument("--emulator", metavar="ENDPOINTS_JSON",
                        help="stands for the side written '-' (or B when only A is given as a file)")
    parser.add_argument("--output", choices=("text", "json"), default="text", help="output format")


def load_side(spec: str, emulator: str | None = None):
    """An ``Index`` for a file or a live source (imported on the fly)."""
    from arclink.importers.errors import ImportFailure

    if spec == "-" and emulator:
        spec = f"emulator:{emulator}"
    if spec.startswith(("emulator:", "azure:")):
        from types import SimpleNamespace

        from arclink.cli.import_ import live_source, read_live
        from arclink.model.index import build_index

        kind, _, rest = spec.partition(":")
        args = SimpleNamespace(emulator=rest if kind == "emulator" else None,
                               subscription=[rest] if kind == "azure" and rest else [])
        try:
            topo, _ = read_live(live_source(args))
        except ImportFailure as exc:
            raise UserError(f"{spec}: {exc.message}", exc.code) from None
        return build_index(topo)
    from arclink.cli._topology import Unusable, load_index

    try:
        return load_index(spec)
    except Unusable as exc:
        raise UserError(str(exc), 2) from None


def run(args) -> int:
    from arclink.importers.diff import diff, render_text

    b = args.b
    a_ix, b_ix = load_side(args.a, args.emulator), load_side(b, args.emulator)
    diffs = diff(a_ix, b_ix)
    if args.output == "json":
        print(json.dumps({"a": args.a, "b": b, "equal": not diffs, "resources": [d.to_dict() for d in diffs]},
                         indent=2))
    else:
        sys.stdout.write(render_text(diffs, args.a, b))
    return 1 if diffs else 0
