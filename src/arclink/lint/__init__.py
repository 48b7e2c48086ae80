"""The lint output formats: findings from ``arclink.model.rules`` as text, JSON or SARIF 2.1.0.

``build_report(findings, file=..., text=...)`` places findings in the file
(line numbers) and ``render(report, fmt)`` writes them out. The checks
themselves live in the model; this package only presents them.
"""

from arclink.lint.report import FORMATS, Report, build_report, render

__all__ = ["FORMATS", "Report", "build_report", "render"]
