"""Wire-format behaviour: flags, TTLs, case, compression, negative answers, errors, truncation."""

from __future__ import annotations

import socket
import struct

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from dns_fixtures import BIG_COUNT, MEDIUM_COUNT, FORWARDED_SITE, HUB_VNET, addresses, ask, query

from arclink.dns.wire import answer


def _raw(server, payload: bytes, timeout: float = 2.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, (server.host, server.port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def test_ttls_come_from_the_records(server):
    r = ask(server, "gbl.his.arc.azure.com", client=FORWARDED_SITE)
    cname, a = r.answer
    assert cname.rdtype == dns.rdatatype.CNAME and cname.ttl == 60  # public DNS CNAME
    assert a.rdtype == dns.rdatatype.A and a.ttl == 10  # the zone group's A record TTL


def test_names_are_case_insensitive_and_answered_in_the_query_case(server):
    r = ask(server, "GbL.HiS.aRc.AzUrE.cOm", client=FORWARDED_SITE)
    assert str(r.question[0].name) == "GbL.HiS.aRc.AzUrE.cOm."
    assert str(r.answer[0].name) == "GbL.HiS.aRc.AzUrE.cOm."
    assert addresses(r) == addresses(ask(server, "gbl.his.arc.azure.com", client=FORWARDED_SITE))


def test_names_are_compressed(server):
    wire = query("gbl.his.arc.azure.com", client=FORWARDED_SITE).to_wire()
    raw = _raw(server, wire)
    # The answer's owner name is a pointer to the question name at offset 12.
    assert b"\xc0\x0c" in raw
    assert raw.count(b"\x05azure\x03com\x00") == 1


def test_aaaa_where_only_a_exists_is_nodata_with_soa(server):
    r = ask(server, "gbl.his.arc.azure.com", "AAAA", client=FORWARDED_SITE)
    assert r.rcode() == dns.rcode.NOERROR
    assert not addresses(r)
    soa = r.authority[0]
    assert soa.rdtype == dns.rdatatype.SOA and str(soa.name) == "privatelink.his.arc.azure.com."
    assert soa[0].mname.to_text() == "azureprivatedns.net."
    assert soa.ttl == 10  # min(SOA TTL, MINIMUM), RFC 2308


def test_unknown_name_in_a_known_zone_is_nxdomain_with_soa(server):
    r = ask(server, "nope.privatelink.his.arc.azure.com", client=HUB_VNET)
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert str(r.authority[0].name) == "privatelink.his.arc.azure.com."
    assert r.flags & dns.flags.AA  # the private zone said so
    r = ask(server, "nope.his.arc.azure.com", client=FORWARDED_SITE)
    assert r.rcode() == dns.rcode.NXDOMAIN and str(r.authority[0].name) == "his.arc.azure.com."


def test_a_zone_apex_without_an_a_record_is_nodata_not_nxdomain(server):
    # The apex of privatelink.his.arc.azure.com has its SOA but no A record: the name exists.
    r = ask(server, "privatelink.his.arc.azure.com", client=HUB_VNET)
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    soa = r.authority[0]
    assert soa.rdtype == dns.rdatatype.SOA and str(soa.name) == "privatelink.his.arc.azure.com."
    assert r.flags & dns.flags.AA
    # ...while the dp zone's apex does carry the endpoint's A record (the zone group wrote it).
    assert addresses(ask(server, "privatelink.dp.kubernetesconfiguration.azure.com", client=HUB_VNET))


def test_a_zones_soa_is_answered_as_data(server):
    r = ask(server, "privatelink.his.arc.azure.com", "SOA", client=HUB_VNET)
    assert r.rcode() == dns.rcode.NOERROR and not r.authority
    (soa,) = r.answer
    assert soa.rdtype == dns.rdatatype.SOA and str(soa.name) == "privatelink.his.arc.azure.com."
    assert soa[0].mname.to_text() == "azureprivatedns.net."
    assert r.flags & dns.flags.AA
    # below the apex, an SOA question is still a negative answer with the zone's SOA in authority
    r = ask(server, "gbl.privatelink.his.arc.azure.com", "SOA", client=HUB_VNET)
    assert r.rcode() == dns.rcode.NOERROR and not r.answer and r.authority[0].rdtype == dns.rdatatype.SOA


def test_ra_always_and_rd_copied(server):
    q = query("management.azure.com")
    q.flags &= ~dns.flags.RD
    r = dns.query.udp(q, server.host, port=server.port, timeout=3)
    assert r.flags & dns.flags.RA and not r.flags & dns.flags.RD


def test_large_answer_is_truncated_over_udp_and_whole_over_tcp(server):
    name = "big.privatelink.his.arc.azure.com"
    r = ask(server, name, client=HUB_VNET)
    assert r.flags & dns.flags.TC and not r.answer
    assert len(r.to_wire()) <= 1232
    r = ask(server, name, client=HUB_VNET, tcp=True)
    assert not r.flags & dns.flags.TC and len(addresses(r)) == BIG_COUNT
    # the usual client path: UDP, then TCP on TC
    r, used_tcp = dns.query.udp_with_fallback(query(name, client=HUB_VNET), server.host, port=server.port, timeout=3)
    assert used_tcp and len(addresses(r)) == BIG_COUNT


def test_the_udp_limit_is_the_edns_size_or_512(index):
    name = "medium.privatelink.his.arc.azure.com"
    for edns, payload, truncated in ((True, 1232, False), (True, 4096, False), (True, 512, True), (False, 0, True)):
        wire = answer(index, None, query(name, edns=edns, payload=payload).to_wire(), source=HUB_VNET)
        r = dns.message.from_wire(wire)
        assert bool(r.flags & dns.flags.TC) is truncated, (edns, payload)
        assert len(wire) <= (payload if edns else 512) or payload > 1232
        if not truncated:
            assert len(addresses(r)) == MEDIUM_COUNT


def test_tcp_carries_several_queries_on_one_connection(server):
    with socket.create_connection((server.host, server.port), timeout=3) as s:
        names = ["gbl.his.arc.azure.com", "management.azure.com", "dp.kubernetesconfiguration.azure.com"]
        stream = b""
        for i, n in enumerate(names):
            q = query(n, client=FORWARDED_SITE)
            q.id = 100 + i
            w = q.to_wire()
            stream += struct.pack("!H", len(w)) + w
        s.sendall(stream)
        for i in range(len(names)):
            size = struct.unpack("!H", _recv(s, 2))[0]
            r = dns.message.from_wire(_recv(s, size))
            assert r.id == 100 + i and r.rcode() == dns.rcode.NOERROR


def _recv(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        assert chunk
        out += chunk
    return out


# --- errors ---------------------------------------------------------------------------------------


def _rcode(wire: bytes) -> int:
    return struct.unpack("!H", wire[2:4])[0] & 0xF


def _good() -> bytes:
    q = query("gbl.his.arc.azure.com")
    q.id = 0x1234
    return q.to_wire()


@pytest.mark.parametrize("mangle", [
    lambda w: w[:-3],  # question cut short
    lambda w: w + b"\x00\x01",  # trailing junk
    lambda w: w[:4] + b"\x00\x02" + w[6:],  # QDCOUNT 2, one question
    lambda w: w[:4] + b"\x00\x00" + w[6:],  # QDCOUNT 0
    lambda w: w[:12] + b"\x40" + w[13:],  # a label length of 64
], ids=["short-question", "trailing-junk", "qdcount-2", "qdcount-0", "bad-label"])
def test_malformed_queries_get_formerr(index, mangle):
    r = answer(index, None, mangle(_good()))
    assert r[:2] == b"\x12\x34" and _rcode(r) == dns.rcode.FORMERR and r[2] & 0x80


def test_malformed_ecs_gets_formerr(index):
    # replace the OPT RR with one carrying an ECS option that claims /33 of IPv4
    opt_rdata = struct.pack("!HH", 8, 8) + struct.pack("!HBB", 1, 33, 0) + b"\xc0\xa8\x0a\x0a"
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(opt_rdata)) + opt_rdata
    q = query("gbl.his.arc.azure.com", edns=False)
    q.id = 0x1234
    base = bytearray(q.to_wire())
    base[10:12] = b"\x00\x01"
    r = answer(index, None, bytes(base) + opt)
    assert _rcode(r) == dns.rcode.FORMERR
    # the same query with a well-formed option is answered
    good = bytes(base) + opt.replace(b"\x00\x01\x21\x00", b"\x00\x01\x20\x00")
    assert _rcode(answer(index, None, good)) == dns.rcode.NOERROR


def test_other_opcodes_get_notimp_and_responses_are_ignored(index):
    w = bytearray(_good())
    w[2] = (w[2] & 0x87) | (2 << 3)  # opcode STATUS
    assert _rcode(answer(index, None, bytes(w))) == dns.rcode.NOTIMP
    w = bytearray(_good())
    w[2] |= 0x80  # QR: a response
    assert answer(index, None, bytes(w)) is None
    assert answer(index, None, b"\x12\x34\x01") is None


def test_edns_version_1_gets_badvers(index):
    q = dns.message.make_query("gbl.his.arc.azure.com", "A", use_edns=1)
    r = dns.message.from_wire(answer(index, None, q.to_wire()))
    assert r.rcode() == dns.rcode.BADVERS and r.edns == 0


def test_other_classes_and_zone_transfers_are_refused(index):
    q = dns.message.make_query("gbl.his.arc.azure.com", "TXT", "CH")
    assert dns.message.from_wire(answer(index, None, q.to_wire())).rcode() == dns.rcode.REFUSED
    q = dns.message.make_query("privatelink.his.arc.azure.com", "AXFR")
    assert dns.message.from_wire(answer(index, None, q.to_wire())).rcode() == dns.rcode.REFUSED


def test_meta_qtype_is_formerr(index):
    q = dns.message.make_query("gbl.his.arc.azure.com", "A")
    w = bytearray(q.to_wire())
    qtype_at = w.index(b"\x00\x00\x01\x00\x01", 12) + 1  # root label, then QTYPE A, QCLASS IN
    w[qtype_at:qtype_at + 2] = struct.pack("!H", 41)
    assert _rcode(answer(index, None, bytes(w))) == dns.rcode.FORMERR
