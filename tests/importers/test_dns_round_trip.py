"""Round trip through the engines: export a site's DNS server, import it back, get the same site DNS.

For every example, every site, every engine and both designs: what ``import dns`` reads from the
exported configuration is what the export wrote (its ``onprem.SiteDns``). Where that is the site's
own DNS model (the exports keep it unless they must correct it), ``diff`` of the topology with the
imported server against the original finds nothing.
"""

from __future__ import annotations

import json

import msgspec
import pytest

from arclink.export import dnsconf, onprem
from arclink.importers.canonical import dns_view
from arclink.importers.diff import diff
from arclink.importers.dns import read_config
from arclink.importers.output import merge_site_dns
from arclink.model import schema
from arclink.model.loader import load
from tests.importers.importers_fixtures import EXAMPLES, arclink
from tests.importers.windows_script import run_script

ENGINES = ("bind", "unbound", "dnsmasq", "coredns", "windows")
MAIN = {"bind": "named.conf", "unbound": "unbound.conf", "dnsmasq": "dnsmasq.conf", "coredns": "Corefile"}


def exported(d: onprem.SiteDns) -> schema.SiteDns:
    """The site DNS model the export's ``SiteDns`` describes."""
    return schema.SiteDns(
        address=d.listen.host if d.listen else "",
        conditional_forwarders=[schema.ConditionalForwarder(zone=z, targets=[t.host for t in ts]) for z, ts in d.forwards],
        records=[schema.ManualRecord(name=f, addresses=[a]) for f, a in d.records],
        upstream=d.upstream.host if d.upstream else "internet")


def write_and_import(engine, d, tmp_path):
    files = dnsconf.RENDERERS[engine](d, onprem.Options())
    if engine == "windows":
        (tmp_path / "dns.json").write_text(json.dumps(run_script(files["arclink-dns.ps1"]), indent=2))
        return read_config("windows", str(tmp_path / "dns.json"))
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return read_config(engine, str(tmp_path / MAIN[engine]))


CASES = [(ex, site.name) for ex in EXAMPLES for site in load(ex).topology.sites]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("design", ("auto", "manual"))
@pytest.mark.parametrize("example,site", CASES, ids=[f"{e.stem}-{s}" for e, s in CASES])
def test_export_then_import_gives_the_site_dns_back(example, site, design, engine, tmp_path):
    ix = load(example)
    try:
        d = onprem.site_dns(ix, ix.site(site), onprem.Options(design=design))
    except onprem.ExportError:
        assert design == "manual"  # a site that reaches no private endpoint has no manual design
        return
    got, notes = write_and_import(engine, d, tmp_path)
    want = exported(d)
    if engine == "windows":  # the script sets neither the listening address nor the server's forwarders
        want = msgspec.structs.replace(want, address="", upstream="internet")
    assert dns_view(got) == dns_view(want), notes
    original = ix.site(site).spec.dns
    if engine != "windows" and original is not None and dns_view(want) == dns_view(original):
        merged = merge_site_dns(ix.topology, site, got)
        assert diff(ix.topology, merged) == []


def test_the_round_trip_covers_real_sites():
    """Most sites' exports are their own model (else the round trip above proves little)."""
    same = 0
    for ex, site in CASES:
        ix = load(ex)
        d = onprem.site_dns(ix, ix.site(site), onprem.Options())
        same += dns_view(exported(d)) == dns_view(ix.site(site).spec.dns)
    assert same >= len(CASES) * 2 // 3, (same, len(CASES))


def test_import_dns_into_a_topology_from_the_command_line(tmp_path):
    good = EXAMPLES[[e.stem for e in EXAMPLES].index("good")]
    out = tmp_path / "bind"
    assert arclink("export", "bind", good, "--site", "store-rotterdam", "-o", out).returncode == 0
    topo = tmp_path / "topo.yaml"
    topo.write_text(good.read_text())
    r = arclink("import", "dns", "--site", "store-rotterdam", "--engine", "bind", out / "named.conf", "--into", topo)
    assert r.returncode == 0, r.stderr
    d = arclink("diff", good, topo)
    assert d.returncode == 0, d.stdout + d.stderr
