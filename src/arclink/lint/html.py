"""HTML output: a self-contained report to attach to a ticket (no script, no external file).

The findings grouped by severity, each with its rule, message, fix and resource, and the
picture of every cluster's path, which the command line draws and hands in (a lint output
format does not draw; ``arclink.portal.svg`` does).
"""

from __future__ import annotations

from html import escape

from arclink.lint.names import describe

_CSS = ("body{font-family:system-ui,sans-serif;margin:1.5rem;color:#201f1e;line-height:1.45}"
        "table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #c8c6c4;padding:.3rem .6rem;"
        "text-align:left;vertical-align:top}thead th{background:#f3f2f1}caption{text-align:left;font-weight:600}"
        ".picture{overflow:auto;border:1px solid #c8c6c4}.error{color:#a4262c}.warning{color:#8f4700}")


def render_html(report, picture_svg: str = "") -> str:
    where = escape(report.file or "live state")
    s = report.summary()
    out = ["<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
           f"<title>arclink lint: {where}</title><style>{_CSS}</style></head><body><main>",
           f"<h1>arclink lint: {where}</h1>",
           f"<p>{s['total']} findings: {s['error']} error(s), {s['warning']} warning(s), {s['info']} info "
           f"({report.rules_checked} rules checked).</p>"]
    if picture_svg:
        out.append("<h2>Which way each cluster's traffic goes</h2><p>Green: admitted; red: refused, ending at the "
                   "hop that refuses; brown: DNS wrong.</p>"
                   f'<div class="picture">{picture_svg}</div>')
    for sev in ("error", "warning", "info"):
        items = [p for p in report.items if p.finding.severity == sev]
        if not items:
            continue
        out.append(f'<h2 class="{sev}">{sev.title()} ({len(items)})</h2><table><caption>{sev.title()} findings'
                   "</caption><thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Resource</th>"
                   "<th scope=\"col\">Finding</th><th scope=\"col\">Fix</th><th scope=\"col\">Line</th></tr></thead><tbody>")
        for p in items:
            f = p.finding
            out.append(f"<tr><th scope=\"row\">{escape(f.rule)}</th><td>{escape(describe(f.resource))}</td>"
                       f"<td>{escape(f.message)}</td><td>{escape(f.fix)}</td><td>{p.line or '-'}</td></tr>")
        out.append("</tbody></table>")
    out.append("</main></body></html>\n")
    return "".join(out)
