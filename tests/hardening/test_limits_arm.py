"""The ARM listener's limits: head size and count, TLS and request deadlines, connection caps per source and in total."""

from __future__ import annotations

import time


from limits_fixtures import arm_get, closed_by_server, dial, arm_address, still_open, tls_dial


def _response(sock, within: float = 10) -> bytes:
    sock.settimeout(within)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_a_never_ending_header_line_is_refused_with_431(stack):
    ep = stack(max_header_bytes=4096)
    s = tls_dial(ep)
    s.sendall(b"GET /subscriptions HTTP/1.1\r\nHost: localhost\r\nX-Endless: ")
    sent = 0
    try:
        while sent < 1 << 20:  # the server answers long before a MiB
            s.sendall(b"a" * 8192)
            sent += 8192
    except (ConnectionResetError, BrokenPipeError, OSError):
        pass
    assert sent < 1 << 20 or _response(s).startswith(b"HTTP/1.1 431 ")
    s.close()
    assert arm_get(ep) == 200


def test_too_many_headers_are_refused_with_431(stack):
    ep = stack(max_headers=20)
    s = tls_dial(ep)
    s.sendall(b"GET /subscriptions HTTP/1.1\r\nHost: localhost\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(30))
              + b"\r\n")
    answer = _response(s)
    assert answer.startswith(b"HTTP/1.1 431 ") and b"at most 20 headers" in answer


def test_a_silent_tls_connection_is_closed_at_the_header_timeout(stack):
    ep = stack(header_timeout=0.5)
    s = tls_dial(ep)  # the handshake completes; no request follows
    assert closed_by_server(s, within=10)


def test_a_silent_tcp_connection_is_closed_at_the_handshake_timeout(stack):
    ep = stack(handshake_timeout=0.5)
    s = dial(arm_address(ep))  # no ClientHello
    assert closed_by_server(s, within=10)


def test_a_trickled_request_does_not_restart_its_clock(stack):
    ep = stack(header_timeout=1.0)
    s = tls_dial(ep)
    start = time.monotonic()
    request = b"GET /subscriptions HTTP/1.1\r\nHost: localhost\r\n" + b"X-Slow: " + b"a" * 200
    closed = False
    for byte in request:  # one byte every 50 ms: 12 s for the whole head, were it allowed
        try:
            s.sendall(bytes([byte]))
        except OSError:
            closed = True
            break
        if closed_by_server(s, within=0.05):
            closed = True
            break
    assert closed and time.monotonic() - start < 8


def test_a_request_within_the_deadline_is_served_on_a_kept_alive_connection(stack):
    ep = stack(header_timeout=2.0)
    import http.client
    import ssl

    host, port = arm_address(ep)
    conn = http.client.HTTPSConnection(host, port, context=ssl.create_default_context(cafile=ep["ca_cert"]))
    for _ in range(3):
        conn.request("GET", "/subscriptions?api-version=2022-12-01", headers={"Authorization": f"Bearer {ep['token']}"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read()
    conn.close()


def test_connections_from_one_source_are_capped_and_others_still_served(stack):
    ep = stack(max_connections=50, max_connections_per_source=5)
    held = [tls_dial(ep) for _ in range(5)]
    assert all(still_open(s) for s in held)
    try:
        extra = tls_dial(ep)
        assert closed_by_server(extra, within=5)
    except OSError:  # refused before the handshake finished
        pass
    assert arm_get(ep) == 200  # another source (127.0.0.1) is served
    for s in held:
        s.close()
    # the closed connections are uncounted: the source may connect again
    deadline = time.monotonic() + 10
    while True:
        try:
            again = tls_dial(ep)
            if still_open(again) and not closed_by_server(again, within=0.2):
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the source stayed refused after its connections closed"


def test_connections_in_total_are_capped(stack):
    ep = stack(max_connections=4, max_connections_per_source=4)
    held = [tls_dial(ep, "127.0.0.2") for _ in range(2)] + [tls_dial(ep, "127.0.0.3") for _ in range(2)]
    try:
        extra = tls_dial(ep, "127.0.0.4")
        assert closed_by_server(extra, within=5)
    except OSError:
        pass
    for s in held:
        s.close()
