"""Could not run: exit 2, one line on stderr, no traceback."""

from __future__ import annotations

import pytest

import json

from doctor_fixtures import EXAMPLES, doctor, endpoints_doc


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


def test_progress_on_a_terminal_goes_to_stderr(stub_dns, monkeypatch):
    """On a TTY a progress bar runs on stderr; stdout still carries only the report."""
    import io
    import json
    import sys

    from arclink.cli.main import main
    from doctor_fixtures import private_records

    class Tty(io.StringIO):
        def isatty(self):
            return True

    dns = stub_dns(private_records())
    out, err = io.StringIO(), Tty()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    rc = main(["doctor", "--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "-p", "--json"])
    assert rc == 0
    assert json.loads(out.getvalue())["summary"]["result"] == "pass"
    assert "Traceback" not in err.getvalue()


def test_emulator_endpoints_must_be_loopback(tmp_path):
    p = tmp_path / "endpoints.json"
    p.write_text(json.dumps(endpoints_doc(dns={"host": "10.0.0.53", "port": 53})))
    check_unusable(["--emulator", str(p), "--site", "store-amsterdam", "--topology", str(EXAMPLES / "good.yaml")],
                   "loopback only")


def test_loopback_only_refuses_a_real_dns_server():
    check_unusable(["--dns-server", "192.0.2.53"], "loopback-only mode")
