"""Configurations nobody here wrote, and input that is wrong: precise messages, exit 2 with file and line."""

from __future__ import annotations

import json
import re

import pytest

from arclink.importers.dns import read_config
from tests.importers.importers_fixtures import SAMPLES, arclink

NOTE = re.compile(r"^.+?:(\d+)?:? .+")


@pytest.mark.parametrize("engine,path", [
    ("bind", "debian-bind9/named.conf"),
    ("unbound", "debian-unbound/unbound.conf"),
    ("unbound", "debian-unbound/unbound.conf.example"),
    ("dnsmasq", "debian-dnsmasq/dnsmasq.conf.example"),
    ("coredns", "coredns-docs/Corefile"),
    ("windows", "windows-docs/dns.json"),
])
def test_sample_configurations_import(engine, path):
    dns, notes = read_config(engine, str(SAMPLES / path))
    for n in notes:  # every note names its file (and a line where the format has lines)
        assert n.startswith(str(SAMPLES)), n


def test_debian_samples_hold_nothing_of_a_site_but_the_defaults():
    dns, notes = read_config("bind", str(SAMPLES / "debian-bind9/named.conf"))
    assert (dns.conditional_forwarders, dns.zones, dns.records, dns.upstream) == ([], [], [], "internet")
    assert notes == []  # localhost, 127/0/255.in-addr.arpa and the root hints are every install's own
    dns, notes = read_config("unbound", str(SAMPLES / "debian-unbound/unbound.conf.example"))
    assert [n.split(": ", 1)[1] for n in notes] == ["clause 'python:' is not in the site model (left out)",
                                                    "clause 'dynlib:' is not in the site model (left out)"]


def test_coredns_sample_reads_what_the_docs_configure():
    dns, notes = read_config("coredns", str(SAMPLES / "coredns-docs/Corefile"))
    assert [(c.zone, c.targets) for c in dns.conditional_forwarders] == [("corp.example.com", ["192.0.2.10",
                                                                                               "192.0.2.11"])]
    assert dns.zones == ["example.org"]
    assert {(r.name, r.type) for r in dns.records} == {("www.example.org", "A"), ("mail.example.org", "CNAME"),
                                                       ("printer.example.net", "A")}
    lines = {n.split(":")[1] for n in notes if "Corefile:" in n}
    assert lines == {"14", "27", "31", "33"}  # the port, kubernetes, rewrite, tls:// upstream


def test_windows_sample_reads_forwarders_zones_and_records():
    dns, notes = read_config("windows", str(SAMPLES / "windows-docs/dns.json"))
    assert dns.address == "192.0.2.53" and dns.upstream == "192.0.2.1"
    assert {c.zone: c.targets for c in dns.conditional_forwarders} == {"his.arc.azure.com": ["10.10.3.4"],
                                                                       "partner.example.net": ["203.0.113.53"]}
    assert {(r.name, r.type, r.ttl) for r in dns.records} == {("dc1.corp.example.com", "A", 3600),
                                                             ("intranet.corp.example.com", "CNAME", 1200)}
    assert any("SRV" in n for n in notes) and any("Secondary" in n for n in notes)


# --- bad input -----------------------------------------------------------------------------------------


def one_line_error(r, file, line, expected):
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert f"{file}:{line}:" in err, err
    assert expected in err, err


BAD_CONFIGS = {
    "bind": ("named.conf", 'options {\n    directory "/var/cache/bind";\n    forwarders { 192.0.2.1; }\n};\n',
             4, "expected ';' after the 'forwarders' statement, found '}'"),
    "unbound": ("unbound.conf", "server:\n    interface 192.0.2.53\n", 2, "expected 'name: value'"),
    "dnsmasq": ("dnsmasq.conf", "server=/corp.example.com\n", 1, "expected '/' closing the domain list"),
    "coredns": ("Corefile", ".:53 {\n    forward . 192.0.2.1\n", 2, "expected '}' closing the block, found the end"),
    "windows": ("dns.json", '{"Zones": [\n  {"ZoneName": "a"\n', 3, "not JSON"),
}


@pytest.mark.parametrize("engine", sorted(BAD_CONFIGS))
def test_a_config_with_a_syntax_error_exits_2_with_file_line_and_what_was_expected(engine, tmp_path):
    name, text, line, expected = BAD_CONFIGS[engine]
    f = tmp_path / name
    f.write_text(text)
    r = arclink("import", "dns", "--site", "s", "--engine", engine, f)
    one_line_error(r, f, line, expected)


def test_a_zone_file_with_a_syntax_error_is_placed(tmp_path):
    (tmp_path / "named.conf").write_text('zone "corp.example.com" {\n  type primary;\n  file "db.corp";\n};\n')
    (tmp_path / "db.corp").write_text("$TTL 3600\n@ IN SOA a. b. 1 2 3 4 5\nwww IN A not-an-address\n")
    r = arclink("import", "dns", "--site", "s", "--engine", "bind", tmp_path / "named.conf")
    one_line_error(r, tmp_path / "db.corp", 3, "expected a record")


GRAPH_ROW = {"id": "/subscriptions/8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d/resourceGroups/rg/providers/"
                   "Microsoft.Network/virtualNetworks/vnet-hub", "name": "vnet-hub",
             "type": "microsoft.network/virtualnetworks", "location": "westeurope",
             "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}, "subnets": []}}


def test_truncated_resource_graph_json(tmp_path):
    f = tmp_path / "graph.json"
    text = json.dumps({"count": 1, "data": [GRAPH_ROW]}, indent=2)[:-30]
    f.write_text(text)
    one_line_error(arclink("import", "graph", f), f, text.count("\n") + 1, "truncated")


def test_resource_graph_file_of_another_shape(tmp_path):
    f = tmp_path / "graph.json"
    f.write_text(json.dumps({"value": [GRAPH_ROW]}, indent=2))
    one_line_error(arclink("import", "graph", f), f, 1, "az graph query")
    f.write_text(json.dumps({"count": 2, "data": [GRAPH_ROW, {"name": "x"}]}, indent=2))
    one_line_error(arclink("import", "graph", f), f, 18, "row 1 is not a resource")


def test_resource_graph_table_and_rows_read_the_same(tmp_path):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps({"count": 1, "data": [GRAPH_ROW]}))
    cols = list(GRAPH_ROW)
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"data": {"columns": [{"name": c} for c in cols],
                                          "rows": [[GRAPH_ROW[c] for c in cols]]}}))
    a, b = arclink("import", "graph", rows), arclink("import", "graph", table)
    assert a.returncode == 0 and a.stdout == b.stdout, a.stderr + b.stderr
    assert "vnet-hub" in a.stdout
