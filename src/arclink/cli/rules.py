"""``arclink rules``: the rule catalogue."""

from __future__ import annotations

import json
import sys


def add_arguments(parser) -> None:
    parser.add_argument("--format", "--output", dest="format", choices=("text", "json"), default="text",
                        help="output format")


def run(args) -> int:
    from arclink.lint.catalog import rule_catalog

    catalog = rule_catalog()
    if args.format == "json":
        keys = ("id", "name", "severity", "summary", "doc", "hard")
        sys.stdout.write(json.dumps([{k: r[k] for k in keys} for r in catalog], indent=2) + "\n")
        return 0
    width = max((len(r["name"]) for r in catalog), default=4)
    for r in catalog:
        hard = " (refused by Azure)" if r["hard"] else ""
        sys.stdout.write(f"{r['id']}  {r['severity']:<7}  {r['name']:<{width}}  {r['summary']}{hard}\n")
    sys.stdout.write(f"\n{len(catalog)} rules; each rule's page: docs/rules/<ID>.md\n")
    return 0
