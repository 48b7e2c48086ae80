"""Random and mutated packets: the server never crashes, says FORMERR where it should, keeps answering."""

from __future__ import annotations

import random
import socket
import struct

import dns.message
import dns.rcode

from dns_fixtures import FORWARDED_SITE, HUB_VNET, SEED_NAMES, ask, query

from arclink.dns.wire import answer

PACKETS = 100_000


def _seeds() -> list[bytes]:
    out = []
    names = list(SEED_NAMES) + ["big.privatelink.his.arc.azure.com", "management.azure.com", "nope.his.arc.azure.com",
                                "www.example.org", "GBL.HIS.ARC.AZURE.COM"]
    for name in names:
        for rdtype in ("A", "AAAA", "CNAME", "ANY", "TXT"):
            out.append(query(name, rdtype, FORWARDED_SITE).to_wire())
            out.append(query(name, rdtype, edns=False).to_wire())
            out.append(query(name, rdtype, HUB_VNET, prefix=24).to_wire())
    return out


def _mutate(rng: random.Random, seed: bytes) -> bytes:
    b = bytearray(seed)
    how = rng.randrange(5)
    if how == 0:  # flip a few bytes
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif how == 1:  # cut
        del b[rng.randrange(len(b)):]
    elif how == 2:  # append junk
        b += rng.randbytes(rng.randint(1, 40))
    elif how == 3:  # random counts in the header
        b[4:12] = struct.pack("!HHHH", *(rng.choice((0, 1, 2, 255, 65535)) for _ in range(4)))
    else:  # splice a random span
        i = rng.randrange(12, len(b))
        b[i:i + rng.randint(1, 8)] = rng.randbytes(rng.randint(0, 8))
    return bytes(b)


def _packets(rng: random.Random, seeds: list[bytes], n: int):
    for i in range(n):
        if i % 4 == 0:
            yield rng.randbytes(rng.randint(0, 300))
        elif i % 4 == 3:
            yield rng.choice(seeds)[:12] + rng.randbytes(rng.randint(0, 120))
        else:
            yield _mutate(rng, rng.choice(seeds))


def test_answer_survives_100k_random_and_mutated_packets(index):
    rng = random.Random(4)
    seeds = _seeds()
    cache: dict = {}
    rcodes: dict[int, int] = {}
    for i, packet in enumerate(_packets(rng, seeds, PACKETS)):
        r = answer(index, None, packet, source="127.0.0.1", cache=cache)
        if r is None:
            # dropped only when there is no header to answer, or it is a response
            assert len(packet) < 12 or packet[2] & 0x80
            continue
        assert r[:2] == packet[:2] and r[2] & 0x80
        rcode = r[3] & 0xF
        rcodes[rcode] = rcodes.get(rcode, 0) + 1
        if i % 25 == 0:
            dns.message.from_wire(r)  # every response we send is itself well-formed
    assert rcodes.get(dns.rcode.FORMERR, 0) > PACKETS // 10
    assert rcodes.get(dns.rcode.NOERROR, 0) > 200  # some mutations stay meaningful questions
    assert rcodes.get(dns.rcode.NOTIMP, 0) and rcodes.get(dns.rcode.REFUSED, 0)
    assert rcodes.get(dns.rcode.SERVFAIL, 0) == 0  # no internal errors (SERVFAIL is only for modelled timeouts)
    for seed in seeds:  # and the well-formed ones are still answered normally
        assert answer(index, None, seed, cache=cache)[3] & 0xF != dns.rcode.FORMERR


def test_live_server_survives_a_udp_and_tcp_burst(server):
    rng = random.Random(7)
    seeds = _seeds()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for packet in _packets(rng, seeds, 3000):
            s.sendto(packet, (server.host, server.port))
    for _ in range(20):  # garbage over TCP, including absurd lengths
        with socket.create_connection((server.host, server.port), timeout=2) as c:
            c.sendall(struct.pack("!H", rng.randint(0, 65535)) + rng.randbytes(rng.randint(0, 200)))
    r = ask(server, "gbl.his.arc.azure.com", client=FORWARDED_SITE)
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    r = ask(server, "gbl.his.arc.azure.com", client=FORWARDED_SITE, tcp=True)
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    assert server._thread.is_alive()
