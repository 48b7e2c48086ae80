"""``arclink explain``: per cluster, what it resolves, where it connects, whether it is admitted and why not.

Rich tables in a terminal, plain text when piped, JSON with ``--output json``, the picture of every
cluster's path as a standalone SVG with ``--format svg``. Each cluster's JSON has ``onboarding``: the
hops besides the names (``{what, ok, detail, code}``; ``code`` is what the cluster is refused with
when the hop fails), before ``names``. Among them are the writes ARM refuses: ``private endpoint
'<name>' exists`` per endpoint the names connect to (APL018, APL005, APL001) and ``cluster features
and extensions`` (APL012).
The traces come from ``arclink.model.trace.cluster_trace``; this module only prints them.
"""

from __future__ import annotations

import sys

from arclink.cli.main import UserError


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE", help="topology file (YAML or JSON)")
    parser.add_argument("--cluster", metavar="NAME", action="append",
                        help="only this cluster (repeatable); default: every cluster")
    parser.add_argument("--output", "--format", dest="output", choices=("text", "json", "svg"), default="text",
                        help="output format (json: per cluster 'onboarding' hops {what, ok, detail, code}, "
                             "among them \"private endpoint '<name>' exists\" and 'cluster features and extensions', "
                             "and 'names'; 'code' is the first failure's code or Admitted; svg: the picture)")


def _clusters(ix, names):
    if not names:
        return list(ix.clusters.values())
    out = []
    for n in names:
        c = ix.cluster(n)
        if c is None:
            import difflib

            close = difflib.get_close_matches(n, [c.name for c in ix.clusters.values()], n=1)
            hint = f" Did you mean '{close[0]}'?" if close else " Run 'arclink explain FILE' to see every cluster."
            raise UserError(f"no cluster named '{n}' in the topology.{hint}", 2)
        out.append(c)
    return out


def run(args) -> int:
    import gc

    gc.disable()  # short-lived; traces of many clusters are many objects and no garbage cycles
    from arclink.cli._topology import Unusable, load_index, report_unusable
    from arclink.model.trace import cluster_trace

    try:
        ix = load_index(args.file)
    except Unusable as exc:
        return report_unusable(exc)
    clusters = _clusters(ix, args.cluster)
    if args.output == "json":
        _stream_json(args.file, (cluster_trace(ix, c) for c in clusters), sys.stdout)
        return 0
    traces = [cluster_trace(ix, c) for c in clusters]
    if args.output == "svg":
        from arclink.model.picture import picture
        from arclink.portal.svg import render_svg

        sys.stdout.write(render_svg(picture(ix, traces), standalone=True) + "\n")
    elif sys.stdout.isatty():
        _rich(traces)
    else:
        sys.stdout.write(plain(traces))
    return 0


def _stream_json(file: str, traces, out) -> None:
    """``{"file", "clusters", "summary"}`` written one cluster at a time, byte for byte what formatting
    the whole document would give: a fleet's traces are never all held (10,000 clusters: 200 MB of JSON)."""
    import msgspec

    def fmt(value, depth: int) -> str:
        text = msgspec.json.format(msgspec.json.encode(value), indent=2).decode()
        return text.replace("\n", "\n" + "  " * depth)

    out.write('{\n  "file": ' + fmt(file, 1) + ',\n  "clusters": [')
    count = admitted = 0
    for t in traces:
        out.write(("," if count else "") + "\n    " + fmt(t.to_dict(), 2))
        count += 1
        admitted += bool(t.admitted)
    out.write(("\n  ]" if count else "]") + ',\n  "summary": '
              + fmt({"clusters": count, "admitted": admitted, "refused": count - admitted}, 1) + "\n}\n")


# --- shared wording ------------------------------------------------------------------------------


def verdict(t) -> str:
    if t.admitted:
        return "ADMITTED"
    code, reason = t.failure or ("Refused", "")
    return f"REFUSED {code}: {reason}"


def cluster_line(t) -> str:
    c = t.cluster
    where = f"site '{c.site.name}', {c.address}" if c.site else "no site (the internet)"
    scope = f"scope '{c.scope.name}'" if c.scope else "no scope"
    return f"cluster '{c.name}' ({where}; privateLinkState {c.spec.private_link_state}; {scope}; {c.location})"


def answer(n) -> str:
    r = n.resolution
    if r.rcode != "NOERROR":
        return r.rcode
    if not r.addresses:
        return "no address"
    kind = "private" if r.private else "public"
    via = f" via '{r.forwarder}'" if r.forwarder else ""
    return f"{', '.join(r.addresses)} ({kind}, {r.source}{via})"


def connection(n) -> str:
    if not n.reaches:
        return "-"
    parts = []
    for rc in n.reaches:
        target = f"private endpoint '{rc.endpoint}'" if rc.endpoint else f"{rc.path} endpoint"
        parts.append(f"{rc.address} -> {target}: {rc.code}")
    return "; ".join(parts)


def summary_line(traces) -> str:
    admitted = sum(1 for t in traces if t.admitted)
    return f"{len(traces)} cluster(s): {admitted} admitted, {len(traces) - admitted} refused."


def plain(traces) -> str:
    out = []
    for t in traces:
        out.append(f"{cluster_line(t)}: {verdict(t)}")
        if t.onboarding:
            out.append("  onboarding")
            for h in t.onboarding:
                out.append(f"      [{'ok' if h.ok else 'FAIL'}] {h.what}: {h.detail}")
        for n in t.names:
            out.append(f"  {n.fqdn}")
            out.append(f"    resolves to {answer(n)}")
            for s in n.resolution.steps:
                out.append(f"      {s.server}: {s.action}")
            for rc in n.reaches:
                out.append(f"    connects to {rc.address} ({rc.path}): {rc.code}"
                           + (f" - {rc.reason}" if not rc.admitted else ""))
                for h in rc.hops:
                    out.append(f"      [{'ok' if h.ok else 'FAIL'}] {h.what}: {h.detail}")
                for w in rc.warnings:
                    out.append(f"      warning: {w}")
        out.append("")
    out.append(summary_line(traces))
    return "\n".join(out) + "\n"


def _rich(traces, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    for t in traces:
        style = "green" if t.admitted else "red"
        table = Table(title=f"{cluster_line(t)}\n[{style}]{verdict(t)}[/{style}]", title_justify="left",
                      show_lines=True, expand=False)
        table.add_column("name", overflow="fold")
        table.add_column("resolves (chain)")
        table.add_column("answer")
        table.add_column("connects")
        if t.onboarding:
            steps = "\n".join(f"{'ok' if h.ok else 'FAIL'} {h.what}: {h.detail}" for h in t.onboarding)
            mark = "green" if all(h.ok for h in t.onboarding) else "red"
            table.add_row(f"[{mark}](onboarding)[/{mark}]", "", "", steps)
        for n in t.names:
            chain = "\n".join(f"{s.server}: {s.action}" for s in n.resolution.steps)
            hops = "\n".join(f"{'ok' if h.ok else 'FAIL'} {h.what}: {h.detail}" for rc in n.reaches for h in rc.hops)
            conn = connection(n) + (f"\n{hops}" if hops else "")
            mark = "green" if n.ok else "red"
            table.add_row(f"[{mark}]{n.fqdn}[/{mark}]", chain, answer(n), conn)
        console.print(table)
    console.print(summary_line(traces))
