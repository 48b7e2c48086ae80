"""The doctor tests never dial anything but loopback, and never ask the system resolver."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    monkeypatch.setenv("ARCLINK_DOCTOR_LOOPBACK_ONLY", "1")

    def no_system_resolver():
        pytest.fail("a doctor test reached for the system resolver; give --dns-server 127.0.0.1:PORT")

    # the system resolver may be a real one: tests never ask it
    monkeypatch.setattr("arclink.doctor.runner.system_dns_servers", no_system_resolver)


from doctor_fixtures import run_emulator, stub_dns, tls_server  # noqa: E402,F401  (fixtures shared by the doctor tests)
