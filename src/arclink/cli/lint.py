"""``arclink lint``: check a topology (a file, or the emulator's live state) against APL001-APL025."""

from __future__ import annotations

import sys
import time
from argparse import SUPPRESS

from arclink.cli.main import UserError


def add_arguments(parser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE",
                        help="topology file (YAML or JSON), or a live source imported on the fly: "
                             "emulator:ENDPOINTS_JSON or azure:[SUBSCRIPTION] (see 'arclink import')")
    parser.add_argument("--format", choices=("text", "json", "sarif", "html"), default="text",
                        help="output format (html: a self-contained report with the picture of every cluster's path)")
    parser.add_argument("--output", choices=("text", "json", "sarif", "html"), dest="format", help=SUPPRESS)
    parser.add_argument("--min-severity", choices=("info", "warning", "error"), default="info",
                        help="report only findings at or above this severity (default: info)")
    parser.add_argument("--emulator", metavar="ENDPOINTS_JSON",
                        help="lint the ARM emulator's live state (its endpoints.json) instead of a file")
    # For bench/lint_bench.py: seconds spent loading, checking and writing, on stderr.
    parser.add_argument("--timings", action="store_true", help=SUPPRESS)


def _live_index(path: str):
    from arclink.cli import emulator_client

    try:
        return emulator_client.fetch_index(path)
    except UserError:
        raise
    except FileNotFoundError:
        raise UserError(f"{path}: file not found; give the endpoints.json that 'arclink serve' wrote.", 2) from None
    except Exception as exc:  # whatever the client raises, the user gets one sentence
        raise UserError(f"{path}: could not read the emulator's state ({exc}); is 'arclink serve' running?", 2) from None


def run(args) -> int:
    import gc

    # A short-lived process over a big object graph: the cyclic collector only costs time here.
    gc.disable()
    from arclink.cli._topology import Unusable, load_source, report_unusable
    from arclink.model import rules
    from arclink.lint import build_report, render

    if bool(args.file) == bool(args.emulator):
        raise UserError("give either a topology FILE or --emulator ENDPOINTS_JSON (exactly one).", 2)
    text = None
    t0 = time.perf_counter()
    if args.emulator:
        ix = _live_index(args.emulator)
    elif args.file.startswith(("emulator:", "azure:")):
        from arclink.cli.diff import load_side

        ix = load_side(args.file)
    else:
        try:
            ix, text = load_source(args.file)
        except Unusable as exc:
            return report_unusable(exc)
    t1 = time.perf_counter()
    findings = rules.run(ix)
    t2 = time.perf_counter()
    report = build_report(findings, file=args.file, text=text, min_severity=args.min_severity,
                          rules_checked=len(rules.all_rules()))
    if args.format == "html":
        from arclink.lint.html import render_html
        from arclink.model.picture import picture
        from arclink.portal.svg import render_svg

        sys.stdout.write(render_html(report, render_svg(picture(ix), standalone=True)))
    else:
        sys.stdout.write(render(report, args.format))
    if args.timings:
        print(f"timings: load {t1 - t0:.3f} rules {t2 - t1:.3f} report {time.perf_counter() - t2:.3f}", file=sys.stderr)
    return 1 if report.has_errors else 0
