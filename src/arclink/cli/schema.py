"""``arclink schema``: the topology file's JSON Schema."""

from __future__ import annotations

import json
import sys


def add_arguments(parser) -> None:
    parser.add_argument("--output", choices=("json",), default="json", help="output format (JSON only)")


def run(args) -> int:
    from arclink.model.schema import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return 0
