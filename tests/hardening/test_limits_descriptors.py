"""File descriptors: the soft limit is raised at start; a flooded listener stops at the reserve, a quiet one goes on."""

from __future__ import annotations

import resource
from pathlib import Path

from arclink.limits import SourceCounter
from limits_fixtures import serve


def test_serve_raises_its_soft_descriptor_limit_to_the_hard_one(tmp_path):
    def low_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 1024))

    with serve(tmp_path, preexec=low_soft_limit) as (proc, _ep):
        line = next(x for x in Path(f"/proc/{proc.pid}/limits").read_text().splitlines()
                    if x.startswith("Max open files"))
        assert line.split()[3:5] == ["1024", "1024"], line


def test_the_reserve_stops_a_busy_listener_and_lets_a_quiet_one_through():
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    near = soft - 40  # a descriptor number within the reserve of 64, not in its last quarter
    busy = SourceCounter(total=10_000, per_source=10_000, fd_reserve=64)
    for n in range(16):
        assert busy.admit(f"127.0.1.{n}", 10 + n) is None  # far from the limit: admitted
    assert busy.admit("127.0.0.9", near) == "descriptors"
    quiet = SourceCounter(total=10_000, per_source=10_000, fd_reserve=64)
    assert quiet.admit("127.0.0.1", near) is None  # holds nothing yet: may use the reserve
    assert quiet.admit("127.0.0.1", soft - 5) == "descriptors"  # but not its last quarter
    assert quiet.open == 1 and busy.open == 16
    quiet.release("127.0.0.1")
    assert quiet.open == 0 and not quiet.by_source
