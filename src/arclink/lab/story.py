"""``arclink demo --lab``: the demo's topology built as a lab, and the page's nslookup run for real in each site."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from arclink.lab import runtime
from arclink.model import catalogue as cat

def lab_name() -> str:
    """The demo's lab: a name of this process's own, so that two demos on one machine do not meet."""
    return f"demo-{os.getpid()}"[:12]


def nslookups(document: dict, say, load_index, name: str | None = None) -> None:
    """Build ``document`` as lab ``name`` (the demo's own by default), print each site's real
    ``nslookup`` lines, tear it down."""
    name = name or lab_name()
    say(f"  (lab '{name}')", "dim")
    with tempfile.TemporaryDirectory(prefix="arclink-demo-lab-") as tmp:
        path = Path(tmp) / "topology.json"
        path.write_text(json.dumps(document))
        lab = runtime.up(str(path), name, load_index=load_index)
        try:
            for sd in lab.plan.site_dns:
                for fqdn in cat.SEED_CHECK_NAMES:
                    got = subprocess.run(["ip", "netns", "exec", sd.ns, "nslookup", fqdn], capture_output=True,
                                         text=True, timeout=30)
                    say(f"  {sd.site}$ nslookup {fqdn}", "dim")
                    for line in (got.stdout + got.stderr).splitlines():
                        if line.strip():
                            say(f"    {line}")
        finally:
            runtime.stop_lab(lab)
