"""Running the doctor in-process through its command line, as a user would."""

from __future__ import annotations

import contextlib
import io
import json

from arclink.cli.main import main


def doctor(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["doctor", *args])
    return rc, out.getvalue(), err.getvalue()


def doctor_json(*args: str) -> tuple[int, dict]:
    rc, out, err = doctor(*args, "--json")
    assert "Traceback" not in err, err
    return rc, json.loads(out)


def emulator_args(endpoints_path, site: str, topology=None) -> list[str]:
    """``--emulator P --site S``; plus the topology when the emulator has no ARM to fetch the model from."""
    from doctor_support import FULL_EMULATOR

    args = ["--emulator", str(endpoints_path), "--site", site]
    if topology is not None and not FULL_EMULATOR.get(str(endpoints_path)):
        args += ["--topology", str(topology)]
    return args


def by_id(report: dict, cid: str) -> dict[str, dict]:
    return {c["target"]: c for c in report["checks"] if c["id"] == cid}


def failing(report: dict) -> set[tuple[str, str]]:
    return {(c["id"], c["target"]) for c in report["checks"] if c["status"] == "fail"}


def diagnosis_text(report: dict) -> str:
    return "\n".join(d["text"] for d in report["diagnosis"])
