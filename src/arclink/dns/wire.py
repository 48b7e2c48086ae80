"""answer(): one DNS query in wire format -> one response in wire format. Pure.

The data comes from ``arclink.model.resolve.resolve()``; this module only speaks DNS.

Wire choices (see also docs/dns.md):
- RA is always set: to every client we are the resolver its DNS server chain ends in.
- AA is set when the final data came from a zone that the answering chain holds itself: an
  Azure private DNS zone answered "as Azure DNS", or an on-premises zone (manual records).
  Public answers are recursive answers (AA clear).
- NXDOMAIN and NODATA carry the SOA of the zone that decided, TTL min(SOA TTL, MINIMUM)
  (RFC 2308).
- REFUSED: names outside every modelled zone (nothing is forwarded to the real internet),
  classes other than IN, and zone transfers. It carries an Extended DNS Error (RFC 8914).
- SERVFAIL: the modelled chain times out or loops; the EDE text says where.
- FORMERR: unparsable questions, not exactly one question, malformed EDNS or ECS, trailing
  bytes, meta query types. NOTIMP: opcodes other than QUERY. BADVERS: EDNS version > 0.
- Messages shorter than a header, and responses (QR set), are dropped (None).
- Over UDP, a response larger than min(client EDNS size, 1232) (512 without EDNS) is sent
  empty with TC set; TCP gets the whole answer.
"""

from __future__ import annotations

import logging
import struct

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from arclink.dns.authority import soa_for, zone_for
from arclink.dns.views import ecs_view, source_view
from arclink.model.index import Index
from arclink.model.resolve import Resolution, View, resolve
from arclink.net import is_loopback_address

log = logging.getLogger("arclink.dns")

# Our EDNS buffer size: the DNS Flag Day 2020 value, safe from IP fragmentation.
OUR_PAYLOAD = 1232
PLAIN_UDP = 512
MAX_TCP = 65535

_META_FORMERR = {dns.rdatatype.OPT, dns.rdatatype.TSIG, dns.rdatatype.TKEY}
_REFUSED_TYPES = {dns.rdatatype.AXFR, dns.rdatatype.IXFR, dns.rdatatype.MAILA, dns.rdatatype.MAILB}
_QR = 0x8000
_RD = 0x0100
_RA = 0x0080


def answer(index: Index, view: View | None, wire: bytes, *, source: str | None = None, transport: str = "udp",
           cache: dict | None = None) -> bytes | None:
    """The response to ``wire``, or None when nothing should be sent.

    ``view`` None selects it: the ECS option when ``source`` is loopback or None (trusted),
    else ``source``'s view, else the internet. ``cache`` (a dict the caller bounds and clears
    per index version) memoises resolutions by (view key, name, type).
    """
    try:
        return _answer(index, view, wire, source, transport, cache)
    except Exception:  # never let one packet take the server down
        log.exception("internal error answering a query")
        return header_only(wire, dns.rcode.SERVFAIL)


def header_only(wire: bytes, rcode: int) -> bytes | None:
    """A bare header answering ``wire`` (used when the query cannot be trusted further)."""
    if len(wire) < 12:
        return None
    qid, flags = struct.unpack_from("!HH", wire)
    if flags & _QR:
        return None
    out_flags = _QR | (flags & 0x7800) | (flags & _RD) | _RA | (rcode & 0xF)
    return struct.pack("!HHHHHH", qid, out_flags, 0, 0, 0, 0)


def _answer(index: Index, view: View | None, wire: bytes, source: str | None, transport: str,
            cache: dict | None) -> bytes | None:
    if len(wire) < 12:
        return None
    flags = struct.unpack_from("!H", wire, 2)[0]
    if flags & _QR:
        return None  # a response sent to us: never answer it (no reflection loops)
    if (flags >> 11) & 0xF != dns.opcode.QUERY:
        return header_only(wire, dns.rcode.NOTIMP)
    try:
        query = dns.message.from_wire(wire)
    except Exception:  # any parse failure, whatever dnspython calls it
        return header_only(wire, dns.rcode.FORMERR)
    if len(query.question) != 1 or query.answer or query.authority:
        return header_only(wire, dns.rcode.FORMERR)
    limit = MAX_TCP if transport == "tcp" else (
        max(PLAIN_UDP, min(query.payload, OUR_PAYLOAD)) if query.edns >= 0 else PLAIN_UDP)
    response = dns.message.make_response(query, recursion_available=True, our_payload=OUR_PAYLOAD)
    if query.edns > 0:
        response.set_rcode(dns.rcode.BADVERS)
        return _to_wire(response, limit)
    q = query.question[0]
    if q.rdtype in _META_FORMERR:
        return header_only(wire, dns.rcode.FORMERR)
    if q.rdclass != dns.rdataclass.IN or q.rdtype in _REFUSED_TYPES or q.name == dns.name.root:
        _refuse(response, "arclink answers class IN queries for single names only")
        return _to_wire(response, limit)

    ecs = next((o for o in query.options if o.otype == dns.edns.OptionType.ECS), None)
    scope = 0
    if view is None:
        if ecs is not None and (source is None or is_loopback_address(source)):
            view, scope = ecs_view(index, ecs.address, ecs.srclen)
        else:
            view = source_view(index, source)
    if ecs is not None:
        response.use_edns(0, 0, OUR_PAYLOAD, options=[dns.edns.ECSOption(ecs.address, ecs.srclen, scope)])

    name = q.name.to_text(omit_final_dot=True).lower()
    qtype = dns.rdatatype.to_text(q.rdtype)
    res = _resolution(index, view, name, qtype, cache)
    _fill(response, index, res, q.name, q.rdtype, name, query.edns >= 0)
    return _to_wire(response, limit)


def _resolution(index: Index, view: View, name: str, qtype: str, cache: dict | None) -> Resolution:
    if cache is None:
        return resolve(index, view, name, qtype)
    key = (view.key, name, qtype)
    res = cache.get(key)
    if res is None:
        res = cache[key] = resolve(index, view, name, qtype)
    return res


def _fill(response: dns.message.Message, index: Index, res: Resolution, qname: dns.name.Name,
          rdtype: dns.rdatatype.RdataType, name: str, edns: bool) -> None:
    if res.rcode == "SERVFAIL":
        response.set_rcode(dns.rcode.SERVFAIL)
        why = res.steps[-1].action if res.steps else "the resolution chain failed"
        if edns:
            _add_option(response, dns.edns.EDEOption(dns.edns.EDECode.NO_REACHABLE_AUTHORITY, _ascii(why)))
        return
    final = name
    for owner, rtype, ttl, data in res.answers:
        if rtype == "CNAME":
            final = data
    zone = res.authoritative_zone or zone_for(index, final)
    if res.rcode == "NXDOMAIN" and zone is None and not res.answers:
        _refuse(response, f"{name} is outside every zone arclink models; nothing is forwarded to the internet")
        return
    _add_answers(response, res, qname, name)
    authoritative = res.source in ("private-zone", "manual") or res.authoritative_zone is not None
    if authoritative:
        response.flags |= dns.flags.AA
    nodata = res.rcode == "NOERROR" and not any(
        r[1] == dns.rdatatype.to_text(rdtype) or rdtype == dns.rdatatype.ANY for r in res.answers)
    if res.rcode == "NXDOMAIN":
        response.set_rcode(dns.rcode.NXDOMAIN)
    if res.rcode == "NXDOMAIN" or nodata:
        if zone is None:  # NODATA for a manual name outside modelled zones: its parent speaks
            zone = final.partition(".")[2] or final
        kind = ("private" if res.zone_vnet else "site") if res.authoritative_zone else "public"
        soa = soa_for(zone, kind)
        if nodata and rdtype == dns.rdatatype.SOA and final == zone:
            # A zone's own SOA is data, not a negative answer.
            response.answer.append(dns.rrset.from_text(
                qname if final == name else dns.name.from_text(zone), soa.ttl, dns.rdataclass.IN,
                dns.rdatatype.SOA, soa.rdata_text()))
            return
        response.authority.append(dns.rrset.from_text(
            dns.name.from_text(zone), soa.negative_ttl, dns.rdataclass.IN, dns.rdatatype.SOA, soa.rdata_text()))


def _add_answers(response: dns.message.Message, res: Resolution, qname: dns.name.Name, name: str) -> None:
    current = None
    for owner, rtype, ttl, data in res.answers:
        key = (owner, rtype)
        if current is None or current[0] != key:
            # The query's own name keeps the query's case (RFC 4343); chain names are ours.
            oname = qname if owner == name else dns.name.from_text(owner)
            rrset = dns.rrset.RRset(oname, dns.rdataclass.IN, dns.rdatatype.from_text(rtype))
            response.answer.append(rrset)
            current = (key, rrset)
        text = data.rstrip(".") + "." if rtype == "CNAME" else data
        current[1].add(dns.rdata.from_text(dns.rdataclass.IN, current[1].rdtype, text), ttl)


def _refuse(response: dns.message.Message, why: str) -> None:
    response.set_rcode(dns.rcode.REFUSED)
    response.answer.clear()
    if response.edns >= 0:
        _add_option(response, dns.edns.EDEOption(dns.edns.EDECode.NOT_AUTHORITATIVE, _ascii(why)))


def _add_option(response: dns.message.Message, option: dns.edns.Option) -> None:
    options = [o for o in response.options if o.otype != option.otype] + [option]
    response.use_edns(0, 0, OUR_PAYLOAD, options=options)


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode()[:300]


def _to_wire(response: dns.message.Message, limit: int) -> bytes:
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        # RFC 2181 section 9: say it is truncated rather than send a partial RRset; the client retries over TCP.
        response.answer.clear()
        response.authority.clear()
        response.additional.clear()
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=MAX_TCP)

