"""Write the seed corpora in corpus/<target>/ (run once; the files are kept in the repository)."""

from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

import dns.edns
import dns.message

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def seeds() -> dict[str, list[bytes]]:
    sys.path.insert(0, str(ROOT / "src"))
    from arclink.model.wire import encode_proxy_v2

    queries = []
    for name, rdtype in (("gbl.his.arc.azure.com", "A"), ("westeurope.dp.kubernetesconfiguration.azure.com", "A"),
                         ("privatelink.his.arc.azure.com", "SOA"), ("example.org", "AAAA"), (".", "NS")):
        queries.append(b"\x00" + dns.message.make_query(name, rdtype).to_wire())
    ecs = dns.edns.ECSOption("192.168.10.0", 24)
    queries.append(b"\x03" + dns.message.make_query("gbl.his.arc.azure.com", "A", use_edns=0, options=[ecs]).to_wire())
    queries.append(b"\x01" + dns.message.make_query("gbl.his.arc.azure.com", "TXT", use_edns=1).to_wire())

    key = base64.b64encode(b"0Y0\x13\x06\x07*\x86H\xce=\x02\x01").decode()
    hello = (b'{"type":"hello","key":"' + key.encode() + b'","nonce":"' + base64.b64encode(bytes(32))
             + b'","time":1800000000,"sig":"AAAA","agentVersion":"1.0"}\n')
    proxy = [encode_proxy_v2("192.168.10.10", "10.10.1.4") + hello,
             encode_proxy_v2("fd00::1", "fd00::2") + b'{"op":"heartbeat","seq":1}\n',
             b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00",  # LOCAL
             hello, b'{"a":[[[[{"b":"[[["}]]]]}\n']

    good = (ROOT / "examples" / "good.yaml").read_bytes()
    topo = [good, good[: len(good) // 3], b"defaults: &d {location: westeurope}\nsites: [{name: a, <<: *d}]\n",
            b'{"sites": [{"name": "a", "addressSpace": ["192.168.1.0/24"]}]}', b"a: [[[[1]]]]\nb: *x\n"]

    bodies = [b'{"location":"westeurope","properties":{"publicNetworkAccess":"Disabled"}}',
              b'{"name":"site-a","addressSpace":["192.168.10.0/24"]}', b"[1,2,3]", b'"text"', b"{}",
              b'{"location":["x"],"tags":{"a":"b"}}', b'{"a":' * 20 + b"1" + b"}" * 20]
    return {"dns_wire": queries, "proxy_hello": proxy, "topology": topo, "arm_body": bodies}


def main() -> None:
    for target, blobs in seeds().items():
        d = HERE / "corpus" / target
        d.mkdir(parents=True, exist_ok=True)
        for blob in blobs:
            (d / hashlib.sha1(blob).hexdigest()).write_bytes(blob)


if __name__ == "__main__":
    main()
