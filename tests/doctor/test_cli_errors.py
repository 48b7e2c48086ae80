"""Could not run: exit 2, one line on stderr, no traceback."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading

import pytest

from doctor_fixtures import EXAMPLES, doctor, endpoints_doc, private_records


def check_unusable(args, *expected):
    rc, out, err = doctor(*args)
    assert rc == 2, (rc, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for e in expected:
        assert e in err, err


def test_missing_endpoints_file(tmp_path):
    check_unusable(["--emulator", str(tmp_path / "nope.json"), "--site", "s"], str(tmp_path / "nope.json"))


def test_malformed_endpoints_file(tmp_path):
    p = tmp_path / "endpoints.json"
    p.write_text("{not json")
    check_unusable(["--emulator", str(p), "--site", "s", "--topology", str(EXAMPLES / "good.yaml")], str(p))


def test_endpoints_without_dns(tmp_path):
    p = tmp_path / "endpoints.json"
    p.write_text(json.dumps(endpoints_doc(dns=None)))
    check_unusable(["--emulator", str(p), "--site", "store-amsterdam", "--topology", str(EXAMPLES / "good.yaml")],
                   "'dns'")


@pytest.mark.parametrize("args,expected", [
    (["--cloud", "AzureUSGovernment"], "not implemented"),
    (["--cloud", "Mars"], "unknown cloud"),
    (["--location", "atlantis"], "unknown location 'atlantis'"),
    (["--dns-server", "not-an-ip"], "--dns-server 'not-an-ip'"),
    (["--dns-server", "127.0.0.1:99999"], "--dns-server"),
    (["--vnet-cidr", "10.0.0.0/33"], "--vnet-cidr '10.0.0.0/33'"),
    (["--site", "store-amsterdam"], "--site needs --emulator"),
    (["--emulator", "endpoints.json"], "--emulator needs --site"),
    (["--topology", str(EXAMPLES / "good.yaml")], "--topology needs --emulator"),
    (["--timeout", "0"], "--timeout"),
    (["--ca-cert", "/nonexistent.pem"], "--ca-cert"),
])
def test_bad_options(args, expected):
    check_unusable(args, expected)


def test_progress_on_a_terminal_goes_to_stderr(stub_dns):
    """On a TTY a progress bar runs on stderr; stdout still carries only the report.

    The doctor runs as a process whose stderr is a pseudo-terminal: the bar's label and its
    done/total counter must be drawn there, and stdout (a pipe) must hold the JSON report alone.
    """
    dns = stub_dns(private_records())
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "arclink", "doctor", "--dns-server", f"127.0.0.1:{dns.port}",
                             "-l", "westeurope", "-p", "--json"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    drawn = bytearray()

    def read_terminal():
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the process closed its end of the terminal
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(10)
        os.close(master)
    terminal = drawn.decode("utf-8", "replace")
    assert proc.returncode == 0, terminal
    assert json.loads(out)["summary"]["result"] == "pass"  # stdout is the report and nothing else
    assert "Traceback" not in terminal
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)  # without the terminal's control sequences
    counts = [(int(done), int(total)) for done, total in re.findall(r"checking.*?(\d+)/(\d+)", plain)]
    assert counts, f"no progress bar on the terminal: {terminal!r}"
    assert all(0 <= done <= total for done, total in counts) and max(total for _, total in counts) > 1


def test_emulator_endpoints_must_be_loopback(tmp_path):
    p = tmp_path / "endpoints.json"
    p.write_text(json.dumps(endpoints_doc(dns={"host": "10.0.0.53", "port": 53})))
    check_unusable(["--emulator", str(p), "--site", "store-amsterdam", "--topology", str(EXAMPLES / "good.yaml")],
                   "loopback only")


def test_loopback_only_refuses_a_real_dns_server():
    check_unusable(["--dns-server", "192.0.2.53"], "loopback-only mode")
