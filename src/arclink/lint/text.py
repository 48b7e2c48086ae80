"""Text output: grouped by resource, each finding with its rule, message and fix."""

from __future__ import annotations

from arclink.lint.names import describe


def _where(file: str | None, line: int | None) -> str:
    if file and line:
        return f"{file}:{line}"
    return file or "live state"


def render_text(report) -> str:
    if not report.items:
        return f"{_where(report.file, None)}: no findings ({report.rules_checked} rules checked).\n"
    groups: dict[str, list] = {}
    for p in report.items:
        groups.setdefault(p.finding.resource, []).append(p)
    out: list[str] = []
    for resource, placed in groups.items():
        head = placed[0]
        out.append(f"{_where(report.file, head.line)}: {describe(resource)}  [{head.finding.path}]")
        for p in placed:
            f = p.finding
            out.append(f"  {f.severity:<7} {f.rule}  {f.message}")
            out.append(f"          fix: {f.fix}")
            if p.line and p.line != head.line:
                out.append(f"          at: {_where(report.file, p.line)}")
        out.append("")
    s = report.summary()
    plural = "" if s["total"] == 1 else "s"
    out.append(f"{s['total']} finding{plural}: {s['error']} error(s), {s['warning']} warning(s), {s['info']} info "
               f"({report.rules_checked} rules checked).")
    return "\n".join(out) + "\n"
