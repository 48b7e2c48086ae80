"""The JSON report is stable and documented: every report validates against the schema in docs/doctor.md."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from arclink.doctor import CHECKS, SCHEMA_VERSION

from doctor_fixtures import EXAMPLES, ROOT, doctor_json, emulator_args, private_records

DOC = ROOT / "docs" / "doctor.md"


@pytest.fixture(scope="module")
def schema() -> dict:
    text = DOC.read_text()
    m = re.search(r"<!-- doctor-json-schema -->\s*```json\n(.*?)```", text, re.S)
    assert m, "docs/doctor.md has no JSON Schema block"
    return json.loads(m.group(1))


def test_every_check_id_is_documented(schema):
    text = DOC.read_text()
    documented = set(schema["properties"]["checks"]["items"]["properties"]["id"]["enum"])
    assert documented == set(CHECKS)
    for cid in CHECKS:
        assert f"| {cid} |" in text, f"{cid} has no row in the checks table"
    assert schema["properties"]["version"]["const"] == SCHEMA_VERSION


def test_emulator_report_matches_schema(schema, run_emulator):
    path, _, _ = run_emulator("broken/dns-forwards-to-public-resolver.yaml")
    rc, rep = doctor_json(*emulator_args(path, "store-amsterdam", EXAMPLES / "broken/dns-forwards-to-public-resolver.yaml"),
                          "-p", "--explain")
    assert rc == 1
    jsonschema.validate(rep, schema)
    assert rep["diagnosis"]
    assert rep["summary"]["fail"] == sum(c["status"] == "fail" for c in rep["checks"])


def test_network_report_matches_schema_and_is_stable(schema, stub_dns):
    dns = stub_dns(private_records())
    args = ("--dns-server", f"127.0.0.1:{dns.port}", "-l", "westeurope", "-p")
    rc1, a = doctor_json(*args)
    rc2, b = doctor_json(*args)
    jsonschema.validate(a, schema)
    assert rc1 == rc2 == 0
    # the same network gives the same report, apart from timings
    def strip(rep):
        rep = json.loads(json.dumps(rep))
        rep["summary"].pop("elapsedMs")
        for c in rep["checks"]:
            c["evidence"].get("dns", {}).pop("elapsedMs", None)
        return rep
    assert strip(a) == strip(b)
    assert [(c["id"], c["target"]) for c in a["checks"]][:5] == [
        ("DNS001", "gbl.his.arc.azure.com"), ("DNS002", "gbl.his.arc.azure.com"), ("NET001", "gbl.his.arc.azure.com"),
        ("TLS001", "gbl.his.arc.azure.com"), ("DNS001", "weu.his.arc.azure.com")]
