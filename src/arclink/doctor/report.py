"""Check results and the report: the shape ``--json`` prints (documented in docs/doctor.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 1
STATUSES = ("pass", "fail", "warn", "skip")

# id -> what the check asks. Ids are stable: scripts match on them.
CHECKS: dict[str, str] = {
    "DNS001": "Arc name resolves",
    "DNS002": "Arc name resolves to a private address",
    "DNS003": "Arc names resolve through one DNS path to one private endpoint",
    "NET001": "TCP 443 reachable",
    "TLS001": "TLS handshake presents the expected name",
    "PUB001": "public endpoint resolves to a public address",
    "PUB002": "public endpoint reachable on TCP 443 (firewall)",
    "ATS001": "-ats.his name ignored",
    "CCN001": "Cluster Connect endpoint not used under private link",
    # emulator mode only: what the model says about the site
    "ADM001": "cluster admitted at the endpoint its names resolve to (model)",
    "RUL001": "no rule finds an error for the site (model)",
}


@dataclass
class Check:
    id: str
    target: str  # the name checked, or "*" for a check over all names
    status: str  # pass, fail, warn, skip
    summary: str  # one line: what was seen
    evidence: dict = field(default_factory=dict)
    fix: str | None = None

    @property
    def title(self) -> str:
        return CHECKS[self.id]

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "target": self.target, "status": self.status,
                "summary": self.summary, "evidence": self.evidence, "fix": self.fix}


@dataclass
class Diagnosis:
    text: str  # plain words: what is wrong, why, and what to do
    checks: list = field(default_factory=list)  # ids (with targets) it explains, e.g. "DNS002 gbl.his.arc.azure.com"
    source: str = "observed"  # observed, model, or a rule id (APL003)

    def to_dict(self) -> dict:
        return {"text": self.text, "checks": list(self.checks), "source": self.source}


@dataclass
class Report:
    mode: str  # network or emulator
    options: dict
    checks: list = field(default_factory=list)
    diagnosis: list = field(default_factory=list)
    elapsed_ms: int = 0

    def counts(self) -> dict:
        c = {s: 0 for s in STATUSES}
        for ch in self.checks:
            c[ch.status] += 1
        return c

    @property
    def exit_code(self) -> int:
        return 1 if any(c.status == "fail" for c in self.checks) else 0

    def summary_line(self) -> str:
        c = self.counts()
        verdict = "FAILED" if self.exit_code else "OK"
        return (f"{verdict}: {c['pass']} passed, {c['fail']} failed, {c['warn']} warnings, {c['skip']} skipped "
                f"in {self.elapsed_ms / 1000:.1f} s")

    def to_dict(self) -> dict:
        c = self.counts()
        return {
            "version": SCHEMA_VERSION,
            "mode": self.mode,
            "options": self.options,
            "summary": {**c, "result": "fail" if self.exit_code else "pass", "exitCode": self.exit_code,
                        "elapsedMs": self.elapsed_ms},
            "checks": [ch.to_dict() for ch in self.checks],
            "diagnosis": [d.to_dict() for d in self.diagnosis],
        }
