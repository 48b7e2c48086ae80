"""The types the emulator does not serve yet (DNS private resolvers, forwarding rulesets, Azure Monitor
private link scopes) read from recorded ARM answers (tests/importers/recorded/, shaped as the SDK
models), through the same table-driven reader; and the one-line error for a missing permission."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from arclink.export.plan import API_VERSIONS
from arclink.importers import arm_types, azure
from arclink.importers.convert import to_topology
from arclink.importers.errors import ImportFailure
from tests.importers.importers_fixtures import RECORDED

SUB = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"
ANSWERS = json.loads((RECORDED / "arm_answers.json").read_text())


class RecordedReader:
    """Stands in for ``azure.Reader``: answers each listing from the recording, 404 for the rest."""

    def __init__(self, source, answers=ANSWERS):
        self.answers = {k.lower(): v for k, v in answers.items()}
        self.asked: list[str] = []
        self.counter = azure._Counter()

    def list(self, path, api_version):
        assert api_version, path
        self.asked.append(path)
        self.counter.sent += 1
        if path.lower() not in self.answers:
            raise azure.ArmAnswer(404, path, {"code": "InvalidResourceType", "message": "not recorded"})
        return list(self.answers[path.lower()]["value"])

    def get(self, path, api_version):
        raise AssertionError("no single GETs are needed")

    def close(self):
        pass


def read(monkeypatch, reader_class=RecordedReader):
    monkeypatch.setattr(azure, "Reader", reader_class)
    return azure.read(azure.Source(arm="https://example.invalid", credential=None, subscriptions=[SUB]),
                      API_VERSIONS)


def test_resolvers_rulesets_and_ampls_are_read_and_counted(monkeypatch):
    result = read(monkeypatch)
    counts = Counter({t.lower(): n for t, n in result.counts.items()})
    assert counts["microsoft.network/dnsresolvers"] == 1
    assert counts["microsoft.network/dnsresolvers/inboundendpoints"] == 1
    assert counts["microsoft.network/dnsforwardingrulesets/forwardingrules"] == 1
    assert counts["microsoft.network/dnsforwardingrulesets/virtualnetworklinks"] == 1
    assert counts["microsoft.insights/privatelinkscopes"] == 1
    assert dict(result.unknown) == {"Microsoft.Storage/storageAccounts": 1}  # counted, not dropped
    topo = to_topology(result.resources, result.onprem)
    assert [(f.name, f.kind, f.virtual_network, f.ip_address) for f in topo.dns_forwarders] == [
        ("dnspr-hub-inbound", "privateResolverInbound", "vnet-hub", "10.10.3.4")]


def test_every_listing_has_an_api_version_from_the_one_table_or_the_read_only_one():
    for t in arm_types.TYPES:
        assert arm_types.version(API_VERSIONS, t.type)
        for c in t.children:
            assert arm_types.version(API_VERSIONS, c.version_of)
    # what arclink writes is read back with the version it was written with
    assert arm_types.version(API_VERSIONS, "Microsoft.Network/privateEndpoints") == \
        API_VERSIONS["Microsoft.Network/privateEndpoints"]


def test_a_missing_permission_names_the_scope_and_the_reader_role(monkeypatch):
    class Forbidden(RecordedReader):
        def list(self, path, api_version):
            if "dnsResolvers" in path:
                raise azure.ArmAnswer(403, path, {"code": "AuthorizationFailed", "message": "no"})
            return super().list(path, api_version)

    with pytest.raises(ImportFailure) as exc:
        read(monkeypatch, Forbidden)
    msg = exc.value.message
    assert "Microsoft.Network/dnsResolvers" in msg and f"/subscriptions/{SUB}" in msg and "Reader" in msg
    assert "\n" not in msg
