"""On the wire, with dig: private zone AAAA, TXT, CNAME chains, the apex SOA and NS, and NODATA
for an empty placeholder record (private zone and on-premises alike)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.conftest import require_tool
from dns_fixtures import FORWARDED_SITE, HUB_VNET, document

from arclink.dns.server import start_dns_server
from arclink.model.live import LiveState
from arclink.model.loader import loads


@pytest.fixture(scope="module")
def records_server():
    doc = document()
    doc["privateDnsZones"].append({"name": "contoso.internal", "virtualNetworkLinks": [{"virtualNetwork": "vnet-hub"}],
                                   "records": [
                                       {"name": "v6", "type": "AAAA", "aaaaRecords": [{"ipv6Address": "fd00::5"}]},
                                       {"name": "note", "type": "TXT", "txtRecords": [{"value": ["hello world"]}]},
                                       {"name": "web", "type": "CNAME", "cnameRecord": {"cname": "app.contoso.internal"}},
                                       {"name": "app", "type": "A", "addresses": ["10.10.9.9"]},
                                       {"name": "empty", "type": "A"}]})
    amsterdam = next(s for s in doc["sites"] if s["name"] == "store-amsterdam")
    amsterdam["dns"]["records"] = [{"name": "placeholder.his.arc.azure.com", "type": "A"}]
    srv = start_dns_server(LiveState(loads(yaml.safe_dump(doc))))
    yield srv
    srv.close()


def dig(server, name: str, rdtype: str, client: str) -> str:
    binary = require_tool("dig")
    return subprocess.run([binary, "@127.0.0.1", "-p", str(server.port), name, rdtype, f"+subnet={client}/32",
                           "+tries=1", "+time=3", "+nocmd", "+nostats"],
                          capture_output=True, text=True, timeout=15).stdout


def answer_lines(out: str) -> list[list[str]]:
    section = out.split(";; ANSWER SECTION:\n", 1)[1].split("\n\n", 1)[0] if ";; ANSWER SECTION:" in out else ""
    return [line.split() for line in section.splitlines() if line and not line.startswith(";")]


def test_aaaa_txt_and_a_cname_chain(records_server):
    assert answer_lines(dig(records_server, "v6.contoso.internal", "AAAA", HUB_VNET))[0][3:] == ["AAAA", "fd00::5"]
    txt = answer_lines(dig(records_server, "note.contoso.internal", "TXT", HUB_VNET))
    assert txt[0][3] == "TXT" and " ".join(txt[0][4:]) == '"hello world"'
    chain = answer_lines(dig(records_server, "web.contoso.internal", "A", HUB_VNET))
    assert [row[3:] for row in chain] == [["CNAME", "app.contoso.internal."], ["A", "10.10.9.9"]]


def test_apex_soa_and_ns(records_server):
    soa = answer_lines(dig(records_server, "contoso.internal", "SOA", HUB_VNET))
    assert soa[0][1:] == ["3600", "IN", "SOA", "azureprivatedns.net.", "azureprivatedns-host.microsoft.com.",
                          "1", "3600", "300", "2419200", "10"]
    ns = answer_lines(dig(records_server, "contoso.internal", "NS", HUB_VNET))
    assert ns[0][3:] == ["NS", "azureprivatedns.net."]


@pytest.mark.parametrize("name, client", [("empty.contoso.internal", HUB_VNET),
                                          ("placeholder.his.arc.azure.com", FORWARDED_SITE)])
def test_an_empty_placeholder_is_nodata(records_server, name, client):
    out = dig(records_server, name, "A", client)
    assert "status: NOERROR" in out and "ANSWER: 0" in out
    assert ";; AUTHORITY SECTION:" in out and "\tIN\tSOA\t" in out
