"""``up`` refuses a lab that is not closed off from the machine, and leaves nothing behind."""

from __future__ import annotations

import subprocess

import pytest

from arclink.cli._topology import load_index
from arclink.lab import runtime
from arclink.lab.netns import NETNS_DIR

from .conftest import REPO, root_namespace


def _site_ns(plan) -> str:
    return next(n.ns for n in plan.nodes.values() if n.kind == "site")


def _stray_link(plan) -> None:
    """A veth pair inside one site namespace, and a route out of the lab through it."""
    ns = _site_ns(plan)
    for cmd in (["ip", "link", "add", "leak0", "type", "veth", "peer", "name", "leak1"],
                ["ip", "link", "set", "leak0", "up"], ["ip", "link", "set", "leak1", "up"],
                ["ip", "route", "add", "203.0.113.0/24", "dev", "leak0"]):
        subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True, capture_output=True)


def test_up_refuses_when_the_safety_check_fails_and_leaves_nothing(lab_capable):
    before = root_namespace()
    name = "tsafe"
    with pytest.raises(runtime.LabError) as refused:
        runtime.up(str(REPO / "examples/good.yaml"), name, load_index=load_index, after_build=_stray_link)
    text = str(refused.value)
    assert text.startswith("the lab is not closed off from the machine, so it stops here:")
    assert "interface leak0 (veth) is not one of the lab's links" in text
    assert "route 203.0.113.0/24 leaves by leak0, which is not a lab link" in text
    assert not list(NETNS_DIR.glob(f"arclink-{name}-*"))
    assert not (runtime.RUN_DIR / name).exists()
    assert not any(p.name.startswith(f"arclink-{name}-") for p in runtime.ETC_NETNS.glob("*"))
    assert runtime.status() == [] or all(lab["name"] != name for lab in runtime.status())
    assert root_namespace() == before
