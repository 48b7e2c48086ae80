"""``arclink resolve NAME --from WHERE``: how a name resolves from a site, a VNet or an address.

It prints the resolution trace that the DNS server's answer for the same client comes from
(both call ``arclink.model.resolve.resolve``). Exit 0 when the name resolves to addresses,
1 when it does not (NXDOMAIN, NODATA, SERVFAIL), 2 for unusable input.
"""

from __future__ import annotations

import json
import sys

from arclink.cli.main import UserError

TYPES = ("A", "AAAA", "CNAME", "ANY", "TXT", "MX", "SOA", "NS")


def add_arguments(parser) -> None:
    parser.usage = ("arclink resolve NAME --from SITE_OR_VNET_OR_ADDRESS [FILE | --emulator endpoints.json] "
                    "[--type A] [--output json]")
    # NAME --from X FILE: an optional positional after an option needs intermixed parsing.
    parser.parse_args = parser.parse_intermixed_args
    parser.add_argument("name", metavar="NAME", help="the name to resolve, e.g. gbl.his.arc.azure.com")
    parser.add_argument("file", metavar="FILE", nargs="?", help="topology file (YAML or JSON)")
    parser.add_argument("--from", dest="origin", required=True, metavar="SITE_OR_VNET_OR_ADDRESS",
                        help="who asks: a site name, a virtual network name or an IP address")
    parser.add_argument("--emulator", metavar="ENDPOINTS_JSON",
                        help="ask the running emulator's state instead of a file (its endpoints.json)")
    parser.add_argument("--type", default="A", type=str.upper, choices=TYPES, help="query type (default A)")
    parser.add_argument("--output", "--format", dest="output", choices=("text", "json"), default="text",
                        help="output format")


def _index(args):
    if bool(args.file) == bool(args.emulator):
        raise UserError("give either a topology FILE or --emulator endpoints.json (exactly one).", 2)
    if args.emulator:
        from arclink.cli.emulator_client import fetch_index

        return fetch_index(args.emulator)  # its failures are already one-line UserErrors
    from arclink.cli._topology import Unusable, load_index

    try:
        return load_index(args.file)
    except Unusable as exc:
        raise UserError(str(exc), 2) from None


def run(args) -> int:
    from arclink.model.resolve import resolve, view_for

    ix = _index(args)
    try:
        view = view_for(ix, args.origin)
    except LookupError as exc:
        raise UserError(f"{exc} Use a site or virtual network name from the topology, or an address.", 2) from None
    res = resolve(ix, view, args.name, args.type)
    if args.output == "json":
        doc = {"from": {"kind": view.kind, "name": view.name or None, "address": view.address}, **res.to_dict()}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(plain(res, view))
    return 0 if res.rcode == "NOERROR" and res.addresses else 1


def plain(res, view) -> str:
    who = view.describe() + (f" (address {view.address})" if view.address else "")
    lines = [f"{res.name} {res.qtype} from {who}"]
    if res.first_server:
        lines.append(f"  asks: {res.first_server}")
    for i, step in enumerate(res.steps, 1):
        lines.append(f"  {i}. {step.server}: {step.action}")
    lines.append(f"answer: {res.rcode}")
    for owner, rtype, ttl, data in res.answers:
        lines.append(f"  {owner}.  {ttl}  IN  {rtype}  {data}{'.' if rtype == 'CNAME' else ''}")
    if res.rcode == "NOERROR" and not res.addresses:
        lines.append(f"  (no {res.qtype} record: NODATA)")
    if res.addresses:
        kind = "private" if res.private else "public"
        lines.append(f"{kind} ({res.source})" + (f" via {res.forwarder}" if res.forwarder else "")
                     + (f", private zones linked to '{res.zone_vnet}'" if res.zone_vnet else ""))
    return "\n".join(lines) + "\n"
