"""DNS over TCP: a deadline per message (not an idle timer restarted by every byte) and connection caps."""

from __future__ import annotations

import struct
import time

import dns.message

from limits_fixtures import closed_by_server, dns_frame, dns_rcode, dns_tcp_dial, still_open


def test_a_trickled_message_is_cut_at_its_deadline(stack):
    ep = stack(header_timeout=1.0, idle_timeout=30)
    s = dns_tcp_dial(ep)
    frame = dns_frame(dns.message.make_query("gbl.his.arc.azure.com", "A").to_wire())
    start = time.monotonic()
    closed = False
    for byte in frame:  # one byte every 100 ms: never idle for long, never a whole message in time
        try:
            s.sendall(bytes([byte]))
        except OSError:
            closed = True
            break
        if closed_by_server(s, within=0.1):
            closed = True
            break
    assert closed and time.monotonic() - start < 6


def test_several_messages_on_one_connection_are_answered(stack):
    ep = stack(header_timeout=2.0)
    s = dns_tcp_dial(ep)
    frames = b"".join(dns_frame(dns.message.make_query(n, "A").to_wire())
                      for n in ("gbl.his.arc.azure.com", "westeurope.dp.kubernetesconfiguration.azure.com"))
    s.sendall(frames)
    got, buf = 0, b""
    s.settimeout(10)
    while got < 2:
        buf += s.recv(65536)
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
            size = struct.unpack("!H", buf[:2])[0]
            dns.message.from_wire(buf[2:2 + size])
            buf, got = buf[2 + size:], got + 1
    assert still_open(s)


def test_an_idle_connection_is_closed(stack):
    ep = stack(idle_timeout=0.5)
    assert closed_by_server(dns_tcp_dial(ep), within=10)


def test_connections_from_one_source_are_capped_and_others_still_served(stack):
    ep = stack(max_connections=50, max_connections_per_source=4, idle_timeout=60)
    held = [dns_tcp_dial(ep) for _ in range(4)]
    extra = dns_tcp_dial(ep)
    assert closed_by_server(extra, within=5)
    assert all(still_open(s) for s in held)
    assert dns_rcode(ep, tcp=True) == 0 and dns_rcode(ep, tcp=False) == 0
    for s in held:
        s.close()


def test_connections_in_total_are_capped(stack):
    ep = stack(max_connections=3, max_connections_per_source=3, idle_timeout=60)
    held = [dns_tcp_dial(ep, "127.0.0.2") for _ in range(3)]
    assert closed_by_server(dns_tcp_dial(ep, "127.0.0.3"), within=5)
    assert dns_rcode(ep, tcp=False) == 0  # UDP is not a connection
    for s in held:
        s.close()
