"""Printing a report: a rich table with a summary line, or JSON."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from arclink.doctor.report import Report

_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "skip": "dim"}


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2)


def print_table(report: Report, console: Console) -> None:
    o = report.options
    where = (f"site '{o['site']}' (as {o['sourceAddress']}) through the emulator" if report.mode == "emulator"
             else "this machine")
    console.print(f"arclink doctor: {where}; DNS {o['dnsServer']}; location {o['location'] or '(none: global names)'}"
                  f"; private link check {'on' if o['enablePlsCheck'] else 'off'}")
    table = Table(show_lines=False, expand=False)
    for col in ("check", "target", "result", "what was seen"):
        table.add_column(col, overflow="fold")
    for c in report.checks:
        table.add_row(c.id, c.target, Text(c.status, style=_STYLE[c.status]), c.summary)
    console.print(table)
    # with --explain the diagnosis says what to do, in context; the per-check fixes would repeat it
    fixes = [] if report.diagnosis else [c for c in report.checks if c.status == "fail" and c.fix]
    seen = set()
    for c in fixes:
        if c.fix in seen:
            continue
        seen.add(c.fix)
        console.print(Text(f"fix ({c.id}): ", style="bold"), Text(c.fix))
    if report.diagnosis:
        console.print(Text("diagnosis:", style="bold"))
        for d in report.diagnosis:
            src = "" if d.source == "observed" else f" [{d.source}]"
            console.print(Text(f"- {d.text}{src}"))
    console.print(Text(report.summary_line(), style="bold red" if report.exit_code else "bold green"))
