"""The PROXY protocol v2 header agents send and the gateway reads (haproxy proxy-protocol.txt §2.2)."""

from __future__ import annotations

import struct

import pytest

from arclink.model.wire import (HEADER_LEN, SIGNATURE, ProxyHeaderError, auth_payload, body_length, decode_proxy_v2,
                                encode_proxy_v2)


def _split(raw: bytes):
    return raw[:HEADER_LEN], raw[HEADER_LEN:]


@pytest.mark.parametrize("src, dst", [("192.168.10.10", "10.10.1.4"), ("fd00::10", "fd00:1::4")])
def test_round_trip(src, dst):
    raw = encode_proxy_v2(src, dst, 51000, 443)
    head, body = _split(raw)
    assert raw.startswith(SIGNATURE) and body_length(head) == len(body)
    h = decode_proxy_v2(head, body)
    assert (h.src, h.dst, h.src_port, h.dst_port, h.local) == (src, dst, 51000, 443, False)


def test_known_bytes_for_ipv4():
    raw = encode_proxy_v2("1.2.3.4", "5.6.7.8", 1, 443)
    assert raw == SIGNATURE + b"\x21\x11\x00\x0c" + bytes([1, 2, 3, 4, 5, 6, 7, 8]) + struct.pack("!HH", 1, 443)


def test_local_command_has_no_addresses():
    head = SIGNATURE + b"\x20\x00\x00\x00"
    assert decode_proxy_v2(head, b"").local


@pytest.mark.parametrize("head", [
    b"GET / HTTP/1.1\r\nHost",  # not the signature
    SIGNATURE + b"\x11\x11\x00\x0c",  # version 1 in a v2 header
    SIGNATURE + b"\x21\x31\x00\x0c",  # AF_UNIX
    SIGNATURE + b"\x21\x11\x00\x04",  # too short for IPv4 addresses
    SIGNATURE + b"\x21\x11\xff\xff",  # far more TLV bytes than we accept
])
def test_rejected_headers(head):
    with pytest.raises(ProxyHeaderError):
        body_length(head[:HEADER_LEN])


def test_tlvs_are_tolerated_and_ignored():
    raw = encode_proxy_v2("192.168.10.10", "10.10.1.4")
    tlv = b"\x04\x00\x03abc"  # PP2_TYPE_NOOP
    head = raw[:14] + struct.pack("!H", 12 + len(tlv))
    h = decode_proxy_v2(head, raw[HEADER_LEN:] + tlv)
    assert (h.src, h.dst) == ("192.168.10.10", "10.10.1.4")


def test_mixed_families_are_refused():
    with pytest.raises(ValueError):
        encode_proxy_v2("192.168.10.10", "fd00::1")


def test_signature_is_bound_to_nonce_time_and_name():
    name = "gbl.his.arc.azure.com"
    assert auth_payload(b"n1", 5, "GBL.his.arc.azure.com") == auth_payload(b"n1", 5, name)
    assert auth_payload(b"n1", 5, name) != auth_payload(b"n2", 5, name)
    assert auth_payload(b"n1", 5, name) != auth_payload(b"n1", 6, name)
    assert auth_payload(b"n1", 5, name) != auth_payload(b"n1", 5, "westeurope.dp.kubernetesconfiguration.azure.com")
    # the fields are separated: moving a digit between nonce and time gives another payload
    assert auth_payload(b"n1", 15, name) != auth_payload(b"n11", 5, name)
